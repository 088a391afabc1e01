package main

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestGBKSessionGetsMaskedGBK: a legacy client on a GBK connection gets
// masked values in GBK, masked per character (surname kept), never bytes
// of a hidden character.
func TestGBKSessionGetsMaskedGBK(t *testing.T) {
	p := startDemoProxy(t, nil)
	truth := loadTruth(t)
	db := dbAs(t, p.mysql, "clerk", "")
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET NAMES gbk"); err != nil {
		t.Fatalf("SET NAMES gbk: %v", err)
	}
	var rawName, rawAddr []byte
	if err := conn.QueryRowContext(ctx, "SELECT name, address FROM person WHERE id = 1").Scan(&rawName, &rawAddr); err != nil {
		t.Fatal(err)
	}
	dec := simplifiedchinese.GBK.NewDecoder()
	name, err := dec.Bytes(rawName)
	if err != nil {
		t.Fatalf("name is not valid GBK: %x", rawName)
	}
	addr, err := simplifiedchinese.GBK.NewDecoder().Bytes(rawAddr)
	if err != nil {
		t.Fatalf("address is not valid GBK: %x", rawAddr)
	}
	c := truth[1]
	surname := []rune(c.name)[0]
	if r, _ := utf8.DecodeRune(name); r != surname || !strings.Contains(string(name), "*") ||
		utf8.RuneCount(name) != utf8.RuneCountInString(c.name) {
		t.Fatalf("name %q: want %c followed by one * per hidden character (of %q)", name, surname, c.name)
	}
	if l := truth.leak(string(name)+"\x00"+string(addr), []int{1}); l != "" {
		t.Fatalf("LEAK: %s", l)
	}
	if !strings.Contains(string(addr), "*") {
		t.Fatalf("address not masked: %q", addr)
	}
}
