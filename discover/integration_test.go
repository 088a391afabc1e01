package discover

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbfence/dbfence/masking"
)

// The integration tests need the local databases of the development machine:
// MariaDB at 127.0.0.1:3306 (root, empty password) and PostgreSQL at
// 127.0.0.1:5432 (postgres, trust). They create the scratch database
// dbfence_discover_test and drop it afterwards.
const (
	scratchDB   = "dbfence_discover_test"
	mysqlAdmin  = "mysql://root@127.0.0.1:3306/"
	pgAdmin     = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	sampleCount = 300
)

// row is one generated person; every personal field validates.
type row struct {
	name, idCard, mobile, contact, bankCard, email, address, plate, uscc, note, birth, created string
	phoneNumber                                                                                int64
}

func generateRows(n int) []row {
	surnames := []string{"张", "王", "李", "欧阳", "刘", "陈"}
	given := []string{"伟", "芳", "娜娜", "小明", "建国", "秀英"}
	regions := []string{"510107", "110105", "513401", "440524"}
	streets := []string{"人民南路", "玉林路", "长安路", "建国路"}
	rows := make([]row, n)
	for i := range rows {
		birth := time.Date(1950+i%60, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
		first17 := regions[i%len(regions)] + birth.Format("20060102") + fmt.Sprintf("%03d", i%1000)
		mobile := 13800000000 + int64(i)*7919
		rows[i] = row{
			name:        surnames[i%len(surnames)] + given[(i/len(surnames))%len(given)],
			idCard:      first17 + idCheckChar(first17),
			mobile:      strconv.FormatInt(mobile, 10),
			phoneNumber: mobile + 1,
			bankCard:    luhnComplete(fmt.Sprintf("622588%09d", i*104729)),
			email:       fmt.Sprintf("user%d@example.cn", i),
			address:     fmt.Sprintf("四川省成都市武侯区%s%d号", streets[i%len(streets)], i+1),
			plate:       fmt.Sprintf("川A%05d", i),
			uscc:        usccComplete(fmt.Sprintf("91510107MA%07d", i)),
			note:        "备注第" + strconv.Itoa(i) + "条",
			birth:       birth.Format("2006-01-02"),
			created:     time.Date(2024, 1, 1+i%28, 0, 0, 0, 0, time.UTC).Format("2006-01-02"),
		}
		rows[i].contact = rows[i].mobile // mixed mobiles and landlines: one phone column
		if i%2 == 1 {
			rows[i].contact = fmt.Sprintf("028-8%07d", i)
		}
		if i%10 == 0 {
			rows[i].note = "联系电话 " + rows[i].mobile
		}
	}
	return rows
}

func idCheckChar(first17 string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(first17[i]-'0') * w
	}
	return string("10X98765432"[sum%11])
}

func luhnComplete(body string) string {
	for d := '0'; d <= '9'; d++ {
		if masking.LuhnValid([]byte(body + string(d))) {
			return body + string(d)
		}
	}
	panic("unreachable")
}

func usccComplete(body string) string {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	for _, c := range alphabet {
		if masking.ValidUSCC([]byte(body + string(c))) {
			return body + string(c)
		}
	}
	panic("unreachable: " + body)
}

// wantClasses is what discovery must propose for the generated table.
var wantClasses = map[string]string{
	"name":       "name/3",
	"id_card":    "id_card/4",
	"mobile":     "phone/3",
	"phone":      "phone/3",
	"contact":    "phone/3",
	"bank_card":  "bank_card/4",
	"email":      "email/3",
	"address":    "address/3",
	"plate":      "license_plate/3",
	"uscc":       "uscc/2",
	"birth_date": "birthday/3",
}

func openOrSkip(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		t.Skipf("database not reachable (%v); the integration test needs the local %s", err, driver)
	}
	return db
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

const createPerson = `CREATE TABLE person (
  pk INT PRIMARY KEY, name VARCHAR(32), id_card CHAR(18), mobile VARCHAR(20), phone BIGINT,
  bank_card VARCHAR(24), email VARCHAR(64), address VARCHAR(128), plate VARCHAR(16), uscc CHAR(18),
  note TEXT, birth_date DATE, created_at DATE, photo %s, contact VARCHAR(20))`

func insertRows(t *testing.T, db *sql.DB, placeholder func(int) string) {
	t.Helper()
	var ph []string
	for i := 1; i <= 15; i++ {
		ph = append(ph, placeholder(i))
	}
	insert := "INSERT INTO person VALUES (" + strings.Join(ph, ", ") + ")"
	for i, r := range generateRows(sampleCount) {
		mustExec(t, db, insert, i, r.name, r.idCard, r.mobile, r.phoneNumber, r.bankCard, r.email, r.address,
			r.plate, r.uscc, r.note, r.birth, r.created, []byte{0xff, 0xd8}, r.contact)
	}
}

func checkOutput(t *testing.T, out, progress *bytes.Buffer, prefix string) {
	t.Helper()
	got := parseClassification(t, out.Bytes())
	for col, want := range wantClasses {
		if got[prefix+col] != want {
			t.Errorf("%s%s: proposed %q, want %q\n%s", prefix, col, got[prefix+col], want, out)
		}
	}
	for _, col := range []string{"pk", "note", "created_at", "photo"} {
		if cl, ok := got[prefix+col]; ok {
			t.Errorf("%s%s must not be classified, got %s", prefix, col, cl)
		}
	}
	wantComment := fmt.Sprintf("  - column: %sid_card   # %d/%d sampled values are valid id_card\n", prefix, sampleCount, sampleCount)
	if !strings.Contains(out.String(), wantComment) {
		t.Errorf("missing %q in\n%s", wantComment, out)
	}
	if !strings.Contains(out.String(), "#   "+prefix+"note: 30/300 sampled values contain a phone (free text)") {
		t.Errorf("partial hits of note not reported:\n%s", out)
	}
	if !strings.Contains(progress.String(), "sampling") || !strings.Contains(progress.String(), "classified") {
		t.Errorf("progress lines missing:\n%s", progress)
	}
}

func TestRunMariaDB(t *testing.T) {
	admin := openOrSkip(t, "mysql", "root@tcp(127.0.0.1:3306)/")
	mustExec(t, admin, "DROP DATABASE IF EXISTS "+scratchDB)
	mustExec(t, admin, "CREATE DATABASE "+scratchDB+" CHARACTER SET utf8mb4")
	t.Cleanup(func() {
		mustExec(t, admin, "DROP DATABASE IF EXISTS "+scratchDB)
		admin.Close()
	})
	db := openOrSkip(t, "mysql", "root@tcp(127.0.0.1:3306)/"+scratchDB)
	defer db.Close()
	mustExec(t, db, fmt.Sprintf(createPerson, "BLOB"))
	insertRows(t, db, func(int) string { return "?" })

	var out, progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Run(ctx, Options{DSN: mysqlAdmin + scratchDB}, &out, &progress); err != nil {
		t.Fatal(err)
	}
	checkOutput(t, &out, &progress, scratchDB+".person.")

	// SampleRows bounds the rows read.
	out.Reset()
	progress.Reset()
	if err := Run(ctx, Options{DSN: mysqlAdmin + scratchDB, SampleRows: 50}, &out, &progress); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "# 50/50 sampled values are valid id_card") || !strings.Contains(progress.String(), ": 50 rows in") {
		t.Errorf("SampleRows=50 not honoured:\n%s\n%s", out.String(), progress.String())
	}
}

func TestRunPostgreSQL(t *testing.T) {
	admin := openOrSkip(t, "pgx", pgAdmin)
	mustExec(t, admin, "DROP DATABASE IF EXISTS "+scratchDB+" WITH (FORCE)")
	mustExec(t, admin, "CREATE DATABASE "+scratchDB+" ENCODING 'UTF8' TEMPLATE template0")
	t.Cleanup(func() {
		mustExec(t, admin, "DROP DATABASE IF EXISTS "+scratchDB+" WITH (FORCE)")
		admin.Close()
	})
	dsn := "postgres://postgres@127.0.0.1:5432/" + scratchDB + "?sslmode=disable"
	db := openOrSkip(t, "pgx", dsn)
	mustExec(t, db, fmt.Sprintf(createPerson, "BYTEA"))
	insertRows(t, db, func(i int) string { return "$" + strconv.Itoa(i) })
	db.Close()

	var out, progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Run(ctx, Options{DSN: dsn}, &out, &progress); err != nil {
		t.Fatal(err)
	}
	checkOutput(t, &out, &progress, "public.person.")
}

func TestRunCancelled(t *testing.T) {
	admin := openOrSkip(t, "mysql", "root@tcp(127.0.0.1:3306)/")
	admin.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Run(ctx, Options{DSN: mysqlAdmin}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Errorf("Run with a cancelled context succeeded")
	}
}
