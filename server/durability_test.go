package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"margin/models"
)

var durSeedFlag = flag.Int64("dur.seed", 0, "random seed for TestDurabilityKill9 (0 picks one from the clock)")

const (
	durUsers        = 28               // commenters; each may post models.DefaultCommentLimits.PerMinute.Max a minute
	durRounds       = 12               // kill -9 and restart at least this many times,
	durMaxRounds    = 40               // and up to this many while fewer than durMinAcked comments got a 201,
	durMaxKillPhase = 45 * time.Second // for at most this long
	durWorkers      = 6                // concurrent submitters per round
	durMinAcked     = 100
	durSlug         = "durability"
	durAdminEmail   = "durability-admin@example.org"
	durAdminPass    = "durability admin passphrase"
	durUserPass     = "durability commenter passphrase"
)

const durDraft = `# Durability draft

First paragraph of the draft.

Second paragraph of the draft.

- A list item.
- Another list item.

Last paragraph.
`

// durProc is one `margin serve` subprocess.
type durProc struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error // Wait's result, set before exited closes
	logPath string
}

// durAck is a comment the server acknowledged with 201.
type durAck struct {
	body        string
	paragraphID int64
}

// durStats are the figures the test reports.
type durStats struct {
	mu           sync.Mutex
	acked        map[int64]durAck
	ackedByRound []int
	rateLimited  int
	connErrors   int // transport errors after the kill: never acknowledged
	cutRounds    int // rounds whose kill cut off at least one request
	unexpected   []string
}

// TestDurabilityKill9 builds the real binary, submits comments from many
// users while killing the server with SIGKILL at random moments, and checks
// that every comment acknowledged with 201 survived, with its exact body,
// in a database that passes PRAGMA integrity_check.
func TestDurabilityKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("durability: builds the binary and kills it repeatedly (about a minute); skipped with -short")
	}
	began := time.Now()
	seed := *durSeedFlag
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (rerun with -dur.seed=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))

	// `go test` puts $GOROOT/bin first on PATH, so this is the go that
	// runs the test.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("durability: no go command on PATH to build the binary: %v", err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "margin")
	if out, err := exec.Command(goBin, "build", "-o", bin, "./").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built %s in %v", bin, time.Since(began).Round(time.Millisecond))

	dataDir := filepath.Join(tmp, "data")
	addr := freeAddr(t)
	base := "http://" + addr
	env := durEnv(map[string]string{
		"MARGIN_DATA_DIR": dataDir, "MARGIN_ADDR": addr,
		"MARGIN_ADMIN_EMAIL": durAdminEmail, "MARGIN_ADMIN_PASSWORD": durAdminPass,
		"MARGIN_REQUIRE_VERIFIED_EMAIL": "false", "MARGIN_LOG_FORMAT": "text",
	})

	// Commenters, made with the CLI before the server starts.
	phase := time.Now()
	if out, err := durCLI(bin, env, "migrate"); err != nil {
		t.Fatalf("margin migrate: %v\n%s", err, out)
	}
	emails := make([]string, durUsers)
	errs := make([]error, durUsers)
	userEnv := append(slices.Clip(env), "MARGIN_PASSWORD="+durUserPass) // a copy: the calls run in parallel
	durParallel(durUsers, 4, func(i int) {
		emails[i] = fmt.Sprintf("dur-%02d@example.org", i)
		out, err := durCLI(bin, userEnv, "user", "create",
			"--email", emails[i], "--name", fmt.Sprintf("Durability Commenter %d", i), "--role", models.RoleCommenter,
			"--stakeholder-group", "civil_society", "--country", "KE")
		if err == nil && !strings.Contains(out, "created commenter") {
			err = fmt.Errorf("unexpected output %q", out)
		}
		if err != nil {
			errs[i] = fmt.Errorf("user create %s: %w\n%s", emails[i], err, out)
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("created %d commenters with `margin user create` in %v", durUsers, time.Since(phase).Round(time.Millisecond))

	runs := 0
	start := func() *durProc {
		runs++
		return durStartServer(t, bin, env, filepath.Join(tmp, fmt.Sprintf("serve-%02d.log", runs)), base)
	}
	proc := start()

	// Seed: the admin publishes a document; every commenter gets a token.
	phase = time.Now()
	client := &http.Client{Timeout: 30 * time.Second}
	var tok struct{ Token string }
	if st, err := durJSON(client, "POST", base+"/api/v1/tokens", "", map[string]string{"email": durAdminEmail, "password": durAdminPass}, &tok); err != nil || st != http.StatusCreated {
		t.Fatalf("admin token: %d %v", st, err)
	}
	adminToken := tok.Token
	var doc struct {
		Slug       string
		Paragraphs []struct{ ID int64 }
	}
	if st, err := durJSON(client, "POST", base+"/api/v1/documents", adminToken, map[string]string{
		"title": "Durability draft", "slug": durSlug, "format": "markdown", "source": durDraft,
	}, &doc); err != nil || st != http.StatusCreated || len(doc.Paragraphs) == 0 {
		t.Fatalf("create document: %d %v %+v", st, err, doc)
	}
	tokens := make([]string, durUsers)
	durParallel(durUsers, 4, func(i int) {
		var tk struct{ Token string }
		st, err := durJSON(client, "POST", base+"/api/v1/tokens", "", map[string]string{"email": emails[i], "password": durUserPass}, &tk)
		if err != nil || st != http.StatusCreated {
			errs[i] = fmt.Errorf("token for %s: %d %v", emails[i], st, err)
		}
		tokens[i] = tk.Token
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded the document and %d tokens in %v", durUsers, time.Since(phase).Round(time.Millisecond))

	// Rounds: submit comments concurrently, kill -9 at a random moment,
	// restart on the same data dir.
	phase = time.Now()
	perMinute := models.DefaultCommentLimits.PerMinute.Max
	pool := &durPool{}
	stats := &durStats{acked: map[int64]durAck{}}
	var seq atomic.Int64
	kills := 0
	for round := 1; ; round++ {
		if round > 1 {
			proc = start()
		}
		pool.refillOnNewMinute(durUsers, perMinute)
		left := max(durRounds-round+1, 2) // rounds to share the budget with
		quota := (pool.len() + left - 1) / left
		delay := time.Duration(50+rng.Intn(351)) * time.Millisecond
		// Hand out the round's share evenly over 1.25 × delay, so the
		// kill lands while requests are in flight; what is left over goes
		// to later rounds.
		transport := &http.Transport{MaxIdleConnsPerHost: durWorkers}
		rc := &http.Client{Transport: transport, Timeout: 20 * time.Second}
		var killed atomic.Bool
		var inFlight atomic.Int64
		stop := make(chan struct{})
		permits := make(chan struct{})
		stats.mu.Lock()
		stats.ackedByRound = append(stats.ackedByRound, 0)
		cutBefore := stats.connErrors
		stats.mu.Unlock()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < quota; i++ {
				select {
				case permits <- struct{}{}:
				case <-stop:
					return
				}
				select {
				case <-time.After(delay * 5 / 4 / time.Duration(quota)):
				case <-stop:
					return
				}
			}
		}()
		for w := 0; w < durWorkers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					case <-permits:
					}
					u, ok := pool.take()
					if !ok {
						return
					}
					n := seq.Add(1)
					pid := doc.Paragraphs[int(n)%len(doc.Paragraphs)].ID
					body := fmt.Sprintf("Durability comment %d from user %d in round %d, seed %d.", n, u, round, seed)
					var c struct {
						ID   int64
						Body string
					}
					inFlight.Add(1)
					st, err := durJSON(rc, "POST", base+"/api/v1/documents/"+durSlug+"/comments", tokens[u],
						map[string]any{"paragraph_ids": []int64{pid}, "body": body}, &c)
					inFlight.Add(-1)
					stats.mu.Lock()
					switch {
					case err != nil && killed.Load():
						stats.connErrors++
					case err != nil:
						stats.unexpected = append(stats.unexpected, fmt.Sprintf("round %d: transport error before the kill: %v", round, err))
					case st == http.StatusCreated:
						stats.acked[c.ID] = durAck{body: c.Body, paragraphID: pid}
						stats.ackedByRound[round-1]++
						if c.Body != body {
							stats.unexpected = append(stats.unexpected, fmt.Sprintf("comment %d: body came back as %q, sent %q", c.ID, c.Body, body))
						}
					case st == http.StatusTooManyRequests:
						stats.rateLimited++
					default:
						stats.unexpected = append(stats.unexpected, fmt.Sprintf("round %d: status %d", round, st))
					}
					stats.mu.Unlock()
					if err != nil {
						pool.give(u) // maybe never counted: try the slot again later
						return
					}
				}
			}()
		}
		// Kill after the random delay, at a moment a request is in flight
		// if one comes within 250 ms.
		time.Sleep(delay)
		for wait := time.Now().Add(250 * time.Millisecond); inFlight.Load() == 0 && time.Now().Before(wait); {
			time.Sleep(500 * time.Microsecond)
		}
		killed.Store(true)
		proc.kill(t)
		kills++
		close(stop)
		wg.Wait()
		transport.CloseIdleConnections()
		stats.mu.Lock()
		if stats.connErrors > cutBefore {
			stats.cutRounds++
		}
		enough := len(stats.acked) >= durMinAcked
		stats.mu.Unlock()
		// At least durRounds kills; more while too few comments were
		// acknowledged (a slow machine), within bounds.
		if round >= durRounds && (enough || round >= durMaxRounds || time.Since(phase) > durMaxKillPhase) {
			break
		}
	}
	killPhase := time.Since(phase)

	// Final run: the server comes back, answers, and stops cleanly on SIGTERM.
	proc = start()
	var listed []struct {
		ID           int64
		Body         string
		ParagraphIDs []int64 `json:"paragraph_ids"`
	}
	if st, err := durJSON(client, "GET", base+"/api/v1/documents/"+durSlug+"/comments", adminToken, nil, &listed); err != nil || st != http.StatusOK {
		t.Fatalf("list comments after the last restart: %d %v", st, err)
	}
	viaAPI := make(map[int64]string, len(listed))
	for _, c := range listed {
		viaAPI[c.ID] = c.Body
	}
	proc.terminate(t, 25*time.Second)
	_, walErr := os.Stat(filepath.Join(dataDir, "margin.db-wal")) // before anything opens the file again

	// Read the file directly: every acknowledged comment, exact body and
	// paragraph link, and an intact database.
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dataDir, "margin.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("PRAGMA integrity_check = %q, %v; want ok", check, err)
	}
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	fkProblems := 0
	for rows.Next() {
		fkProblems++
	}
	rows.Close()
	if fkProblems > 0 {
		t.Errorf("PRAGMA foreign_key_check reports %d rows", fkProblems)
	}
	lost := 0
	for id, a := range stats.acked {
		var body string
		var links int
		var linked int64
		err := db.QueryRow("SELECT body FROM comments WHERE id = ?", id).Scan(&body)
		if err == nil {
			err = db.QueryRow("SELECT COUNT(*), COALESCE(MAX(paragraph_id), 0) FROM comment_paragraphs WHERE comment_id = ?", id).Scan(&links, &linked)
		}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			lost++
			t.Errorf("acknowledged comment %d is missing from the database", id)
		case err != nil:
			t.Fatalf("read comment %d: %v", id, err)
		case body != a.body:
			lost++
			t.Errorf("comment %d: body %q, acknowledged %q", id, body, a.body)
		case links != 1 || linked != a.paragraphID:
			lost++
			t.Errorf("comment %d: %d paragraph links to %d, acknowledged paragraph %d", id, links, linked, a.paragraphID)
		case viaAPI[id] != a.body:
			t.Errorf("comment %d: the API lists body %q, acknowledged %q", id, viaAPI[id], a.body)
		}
	}
	var stored int
	if err := db.QueryRow("SELECT COUNT(*) FROM comments WHERE body LIKE 'Durability comment %'").Scan(&stored); err != nil {
		t.Fatal(err)
	}

	for _, u := range stats.unexpected {
		t.Errorf("unexpected: %s", u)
	}
	if n := len(stats.acked); n < durMinAcked {
		t.Errorf("only %d comments were acknowledged; the test needs at least %d to mean something", n, durMinAcked)
	}
	for i := 1; i <= runs; i++ {
		if lines := durErrorLines(t, filepath.Join(tmp, fmt.Sprintf("serve-%02d.log", i))); len(lines) > 0 {
			t.Errorf("serve run %d logged errors:\n%s", i, strings.Join(lines, "\n"))
		}
	}
	t.Logf("kills: %d (%d with requests in flight); acknowledged: %d (per round %v); lost: %d; "+
		"stored but never acknowledged (cut off by a kill): %d; rate-limited (429): %d; requests cut off by a kill: %d; "+
		"integrity_check: %s; WAL left after SIGTERM: %v; kill phase %v; total %v",
		kills, stats.cutRounds, len(stats.acked), stats.ackedByRound, lost, stored-len(stats.acked), stats.rateLimited,
		stats.connErrors, check, walErr == nil, killPhase.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// durPool hands out comment slots, perMinute per user in round-robin
// order, refilled when the server's rate-limit minute changes.
type durPool struct {
	mu     sync.Mutex
	slots  []int
	minute int64
}

func (p *durPool) refillOnNewMinute(users, perMinute int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := time.Now().Unix() / 60
	if m == p.minute {
		return
	}
	p.minute = m
	p.slots = p.slots[:0]
	for r := 0; r < perMinute; r++ {
		for u := 0; u < users; u++ {
			p.slots = append(p.slots, u)
		}
	}
}

func (p *durPool) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.slots)
}

func (p *durPool) take() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.slots) == 0 {
		return 0, false
	}
	u := p.slots[0]
	p.slots = p.slots[1:]
	return u, true
}

func (p *durPool) give(u int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slots = append(p.slots, u)
}

// durStartServer starts `margin serve` and waits for /healthz to answer 200.
func durStartServer(t *testing.T, bin string, env []string, logPath, base string) *durProc {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Start()
	f.Close()
	if err != nil {
		t.Fatalf("start margin serve: %v", err)
	}
	p := &durProc{cmd: cmd, exited: make(chan struct{}), logPath: logPath}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.exited:
			t.Fatalf("margin serve exited while starting: %v\n%s", p.err, durTail(logPath))
		default:
		}
		res, err := hc.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz did not answer 200 within 30s (last: %v)\n%s", err, durTail(logPath))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and checks the process died of it (and not before).
func (p *durProc) kill(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
		t.Fatalf("margin serve had already exited before the kill: %v\n%s", p.err, durTail(p.logPath))
	default:
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	var ee *exec.ExitError
	if !errors.As(p.err, &ee) {
		t.Fatalf("after SIGKILL: %v", p.err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("margin serve did not die of SIGKILL: %v\n%s", p.err, durTail(p.logPath))
	}
}

// terminate sends SIGTERM and expects exit status 0 within grace.
func (p *durProc) terminate(t *testing.T, grace time.Duration) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(grace):
		t.Fatalf("margin serve did not stop within %v of SIGTERM\n%s", grace, durTail(p.logPath))
	}
	if p.err != nil {
		t.Fatalf("margin serve after SIGTERM: %v (want exit status 0)\n%s", p.err, durTail(p.logPath))
	}
}

// durJSON sends a JSON request and decodes a 2xx answer into out. The error
// is a transport error; any HTTP status comes back as the int.
func durJSON(c *http.Client, method, url, token string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			return res.StatusCode, fmt.Errorf("decode %q: %w", b, err)
		}
	}
	return res.StatusCode, nil
}

// durCLI runs one margin command to completion.
func durCLI(bin string, env []string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// durEnv is the test's environment without any MARGIN_* variable of the
// caller, plus vars.
func durEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MARGIN_") {
			env = append(env, kv)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// durParallel calls f(0..n-1) with at most width calls at once.
func durParallel(n, width int, f func(i int)) {
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

// durErrorLines returns the ERROR-level lines of a text log.
func durErrorLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "level=ERROR") {
			out = append(out, l)
		}
	}
	return out
}

// durTail returns the end of a log file for failure messages.
func durTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
