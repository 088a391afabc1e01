package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"go.uber.org/zap"

	"github.com/dbfence/dbfence/approval"
	"github.com/dbfence/dbfence/config"
	"github.com/dbfence/dbfence/proxy"
	"github.com/dbfence/dbfence/rules"
)

func init() {
	register("approval", "list, show, approve, reject and revoke approval requests for bulk reads", runApproval)
}

// approvalGate adapts the approval store to the engines, and announces new
// requests on the webhook.
type approvalGate struct {
	store   approval.Requests
	webhook func(*approval.Request)
}

var _ proxy.Approvals = approvalGate{}

func (a approvalGate) Use(user, db, normalized string) (string, int64, bool, error) {
	r, ok, err := a.store.Use(user, db, approval.Fingerprint(normalized))
	if !ok || err != nil {
		return "", 0, false, err
	}
	return r.ID, r.Rows, true, nil
}

func (a approvalGate) File(user, db, normalized string, rows int64, reason string) (string, error) {
	r, created, err := a.store.File(user, db, normalized, rows, reason)
	if err != nil {
		return "", err
	}
	if created && a.webhook != nil {
		a.webhook(r)
	}
	return r.ID, nil
}

// openApprovals opens the configured store (nil when the workflow is off):
// a file, or a postgres:// URL shared by several proxy instances.
func openApprovals(cfg *config.Config) (approval.Requests, error) {
	if cfg.Approval.Store == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return approval.OpenRequests(ctx, cfg.Approval.Store)
}

func runApproval(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("approval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "configs/dbfence.yaml", "configuration file (names the store and the approvers)")
	adminURL := fs.String("admin", "", "the running proxy's admin address for approve, reject and revoke (default: listen.admin of the configuration)")
	tokenFile := fs.String("token-file", "", "file holding your approver token (default: $DBFENCE_APPROVER_TOKEN)")
	comment := fs.String("comment", "", "the approver's comment")
	valid := fs.Duration("valid", 24*time.Hour, "how long an approval holds")
	uses := fs.Int("uses", 1, "how many runs an approval allows")
	rows := fs.Int64("rows", 0, "rows each approved run may return (default: as requested); with request: the rows asked for")
	user := fs.String("user", "", "with request: the database user who will run the statement")
	database := fs.String("database", "", "with request: the database it will run in")
	reason := fs.String("reason", "", "with request: why the data is needed")
	protocol := fs.String("protocol", "mysql", "with request: the server the statement will run on (mysql or postgres), which decides how it is read")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: dbfence approval [flags] list|show ID|approve ID|reject ID|revoke ID
       dbfence approval --user U --database DB --rows N --reason WHY request "SQL"

Statements a role may only run with an approval (bulk reads) are refused with
the id of a request filed for them. An approver (listed in approval.approvers,
never the requester) approves it for a validity window, a number of uses and
a number of rows; the requester's re-run of the same statement in the same
database then succeeds, and nothing else does.

approve, reject and revoke are sent to the running proxy's admin API with
your approver token (approval.approver_tokens), which identifies you; the
proxy records each decision, and each refused attempt, in the audit log.
list and show read the store; request files a request in it.

Flags (before the verb):
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	verb, rest := fs.Arg(0), fs.Args()
	switch verb {
	case "":
		fs.Usage()
		return 2
	case "list", "show", "approve", "reject", "revoke", "request":
	default:
		fmt.Fprintf(stderr, "dbfence approval: unknown verb %q (list, show, approve, reject, revoke or request)\n", verb)
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	store, err := openApprovals(cfg)
	if err != nil || store == nil {
		fmt.Fprintf(stderr, "dbfence approval: no approval.store in %s (%v)\n", *cfgPath, err)
		return 1
	}
	if verb == "request" {
		return fileAhead(cfg, store, *protocol, *user, *database, *rows, *reason, rest, stdout, stderr)
	}
	id := ""
	if verb != "list" {
		if len(rest) != 2 {
			fs.Usage()
			return 2
		}
		id = rest[1]
	}
	var r *approval.Request
	switch verb {
	case "list":
		list, err := store.List()
		if err != nil {
			fmt.Fprintf(stderr, "dbfence approval: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tREQUESTER\tDATABASE\tROWS\tCREATED\tSTATEMENT")
		for _, r := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.Status, r.Requester, r.Database, r.Rows, r.Created.Format(time.RFC3339), r.Normalized)
		}
		tw.Flush()
		return 0
	case "show":
		r, err = store.Get(id)
	case "approve", "reject", "revoke":
		token, terr := approverToken(*tokenFile)
		if terr != nil {
			fmt.Fprintf(stderr, "dbfence approval: %v\n", terr)
			return 2
		}
		base := *adminURL
		if base == "" {
			base = cfg.Listen.Admin
		}
		q := url.Values{}
		if *comment != "" {
			q.Set("comment", *comment)
		}
		q.Set("valid", valid.String())
		q.Set("uses", strconv.Itoa(*uses))
		if *rows > 0 {
			q.Set("rows", strconv.FormatInt(*rows, 10))
		}
		r, err = decideRemote(base, token, verb, id, q)
	default:
		fmt.Fprintf(stderr, "dbfence approval: unknown verb %q\n", verb)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "dbfence approval: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s %s requester=%s database=%s rows=%d uses_left=%d valid_until=%s approver=%s\n  %s\n",
		r.ID, r.Status, r.Requester, r.Database, r.Rows, r.UsesLeft, r.ValidUntil.Format(time.RFC3339), r.Approver, r.Normalized)
	return 0
}

// newWebhook returns a function that POSTs a new request as JSON to url, in
// the background with a bounded timeout, so chat tools can route it to the
// approvers. A failed delivery is logged; the request stays filed.
func newWebhook(url string, log *zap.Logger) func(*approval.Request) {
	client := &http.Client{Timeout: 5 * time.Second}
	return func(r *approval.Request) {
		body, err := json.Marshal(struct {
			Event   string            `json:"event"`
			Request *approval.Request `json:"request"`
		}{"approval_requested", r})
		if err != nil {
			return
		}
		go func() {
			resp, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				log.Warn("approval webhook not delivered", zap.String("request", r.ID), zap.Error(err))
				return
			}
			resp.Body.Close()
			if resp.StatusCode >= 300 {
				log.Warn("approval webhook refused", zap.String("request", r.ID), zap.Int("status", resp.StatusCode))
			}
		}()
	}
}

// fileAhead files a request before the statement is run: the statement is
// read by the rules exactly as the proxy will read it, so the request names
// the same statement shape the proxy looks up.
func fileAhead(cfg *config.Config, store approval.Requests, protocol, user, database string, rows int64, reason string, rest []string, stdout, stderr io.Writer) int {
	if user == "" || database == "" || rows <= 0 || reason == "" || len(rest) != 2 {
		fmt.Fprintf(stderr, "dbfence approval request: --user, --database, --rows, --reason and one SQL statement are required\n")
		return 2
	}
	policy, err := loadPolicy(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	eng, err := rules.NewEngine(policy, nil, maskerFactory, nil)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	var v *rules.Verdict
	switch protocol {
	case "mysql":
		v = eng.CheckMySQL(&rules.Session{Protocol: rules.ProtocolMySQL, User: user, Database: database, Charset: "utf8mb4",
			ServerVersion: 101100, MariaDB: true}, rest[1])
	case "postgres", "postgresql":
		v = eng.CheckPostgres(&rules.Session{Protocol: rules.ProtocolPostgres, User: user, Database: database, Charset: "UTF8"}, rest[1])
	default:
		fmt.Fprintf(stderr, "dbfence approval request: --protocol must be mysql or postgres, not %q\n", protocol)
		return 2
	}
	if len(v.Statements) != 1 {
		fmt.Fprintf(stderr, "dbfence approval request: the text must hold one statement that parses (%v)\n", v.Refusal)
		return 1
	}
	r, _, err := store.File(user, database, v.Statements[0].Normalized, rows, reason)
	if err != nil {
		fmt.Fprintf(stderr, "dbfence approval: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s %s requester=%s database=%s rows=%d\n  %s\n", r.ID, r.Status, r.Requester, r.Database, r.Rows, r.Normalized)
	return 0
}

// approverToken reads the approver's token from file, or from
// $DBFENCE_APPROVER_TOKEN.
func approverToken(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		tok, _, _ := strings.Cut(string(b), "\n")
		if tok = strings.TrimSpace(tok); tok != "" {
			return tok, nil
		}
		return "", fmt.Errorf("--token-file %s is empty", file)
	}
	if tok := strings.TrimSpace(os.Getenv("DBFENCE_APPROVER_TOKEN")); tok != "" {
		return tok, nil
	}
	return "", errors.New("approve, reject and revoke need your approver token: --token-file FILE or $DBFENCE_APPROVER_TOKEN (approval.approver_tokens)")
}

// decideRemote sends a decision to the proxy's admin API and returns the
// request as the proxy left it.
func decideRemote(base, token, verb, id string, q url.Values) (*approval.Request, error) {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u := strings.TrimRight(base, "/") + "/approvals/" + url.PathEscape(id) + "/" + verb + "?" + q.Encode()
	req, err := http.NewRequest(http.MethodPost, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Timeout: 15 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the proxy's admin API at %s is not reachable (%v); decisions are made through the running proxy", base, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("%s refused (%s): %s", verb, resp.Status, e.Error)
		}
		return nil, fmt.Errorf("%s refused: %s", verb, resp.Status)
	}
	var r approval.Request
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("the proxy's answer: %w", err)
	}
	return &r, nil
}
