package main

import (
	"flag"
	"io"
	"log"
	"net"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:3399", "address to accept clients on")
	backend := flag.String("backend", "127.0.0.1:3306", "address to forward to")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer c.Close()
			b, err := net.Dial("tcp", *backend)
			if err != nil {
				return
			}
			defer b.Close()
			done := make(chan struct{}, 2)
			go func() { io.Copy(b, c); done <- struct{}{} }()
			go func() { io.Copy(c, b); done <- struct{}{} }()
			<-done
		}()
	}
}
