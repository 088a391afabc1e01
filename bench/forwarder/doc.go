// Command forwarder is the reference dbfence's throughput is compared with:
// a TCP forwarder that only copies bytes (two io.Copy goroutines per
// connection, no parsing, no logic). bench/sysbench-proxy.sh and
// bench/pgbench-proxy.sh can point at it to measure what plain forwarding
// costs on the same machine in the same run.
package main
