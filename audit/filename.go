package audit

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// File names are audit-<UTC creation time>-<index>.jsonl. The index grows by
// one per file for the life of the directory, so a missing index is a
// missing file; the time is informational (and used by retention).
const (
	filePrefix     = "audit-"
	fileSuffix     = ".jsonl"
	fileTimeLayout = "20060102T150405Z"
)

// fileName returns the name of the index'th file created at t.
func fileName(t time.Time, index uint64) string {
	return fmt.Sprintf("%s%s-%06d%s", filePrefix, t.UTC().Format(fileTimeLayout), index, fileSuffix)
}

// logFile is an audit file found in a directory.
type logFile struct {
	name    string
	index   uint64
	created time.Time
}

// parseFileName recognizes an audit file name.
func parseFileName(name string) (logFile, bool) {
	rest, ok := strings.CutPrefix(name, filePrefix)
	if !ok {
		return logFile{}, false
	}
	rest, ok = strings.CutSuffix(rest, fileSuffix)
	if !ok || len(rest) < len(fileTimeLayout)+2 || rest[len(fileTimeLayout)] != '-' {
		return logFile{}, false
	}
	t, err := time.Parse(fileTimeLayout, rest[:len(fileTimeLayout)])
	if err != nil {
		return logFile{}, false
	}
	idx, err := strconv.ParseUint(rest[len(fileTimeLayout)+1:], 10, 64)
	if err != nil || idx == 0 {
		return logFile{}, false
	}
	return logFile{name: name, index: idx, created: t}, true
}

// listLogFiles returns the audit files among entries, ordered by index.
// Other names are ignored.
func listLogFiles(entries []os.DirEntry) []logFile {
	var files []logFile
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if f, ok := parseFileName(e.Name()); ok {
			files = append(files, f)
		}
	}
	slices.SortFunc(files, func(a, b logFile) int {
		switch {
		case a.index < b.index:
			return -1
		case a.index > b.index:
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	return files
}
