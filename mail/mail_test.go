package mail

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRenderKeepsHeadersIntact(t *testing.T) {
	tests := []struct {
		name, toName, subject string
	}{
		{"plain", "Ana Lima", "Confirm your e-mail address"},
		{"header injection in name", "Eve\r\nBcc: victim@example.org", "Hi"},
		{"header injection in subject", "Eve", "Hi\nBcc: victim@example.org"},
		{"unicode", "José Ñúñez 中文", "Confirmez ¶ votre adresse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := Render("Margin <margin@example.org>", Message{ToName: tc.toName, ToEmail: "to@example.org", Subject: tc.subject, Body: "Line one\nLine two=3D"}, time.Unix(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			m, err := mail.ReadMessage(strings.NewReader(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Header["To"]) != 1 || m.Header.Get("Bcc") != "" || m.Header.Get("Cc") != "" {
				t.Fatalf("headers = %v", m.Header)
			}
			to, err := mail.ParseAddress(m.Header.Get("To"))
			if err != nil || to.Address != "to@example.org" {
				t.Fatalf("To = %q (%v)", m.Header.Get("To"), err)
			}
		})
	}
	if _, err := Render("m@example.org", Message{ToEmail: "not an address"}, time.Now()); err == nil {
		t.Fatal("a bad recipient was rendered")
	}
}

func TestOutboxWritesWholeFiles(t *testing.T) {
	dir := t.TempDir()
	o := &Outbox{Dir: dir, From: "margin@example.org"}
	for i := 0; i < 3; i++ {
		if err := o.Send(context.Background(), Message{ToName: "A", ToEmail: "a@example.org", Subject: "S", Body: "B"}); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 3 {
		t.Fatalf("%d files, want 3 (and no temporary ones): %v", len(files), files)
	}
	b, _ := os.ReadFile(files[0])
	if !strings.HasSuffix(files[0], ".eml") || !strings.Contains(string(b), "Subject: S") {
		t.Fatalf("outbox file %s = %q", files[0], b)
	}
}

// smtpPeer is a minimal SMTP server on loopback that records one message.
func smtpPeer(t *testing.T, stall bool) (addr string, got chan string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got = make(chan string, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		if stall {
			time.Sleep(3 * time.Second)
			return
		}
		r := bufio.NewReader(conn)
		say := func(s string) { io.WriteString(conn, s+"\r\n") }
		say("220 test ESMTP")
		var data strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.ToUpper(strings.TrimSpace(line))
			switch {
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				say("250 test")
			case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"):
				say("250 ok")
			case cmd == "DATA":
				say("354 go on")
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == ".\r\n" {
						break
					}
					data.WriteString(l)
				}
				say("250 queued")
				got <- data.String()
			case cmd == "QUIT":
				say("221 bye")
				return
			default:
				say("500 what")
			}
		}
	}()
	return l.Addr().String(), got
}

func TestSMTPDelivers(t *testing.T) {
	addr, got := smtpPeer(t, false)
	s, err := NewSMTP("smtp://"+addr, "Margin <margin@example.org>")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{ToName: "Ana", ToEmail: "ana@example.org", Subject: "Hello", Body: "Body text"}); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		if !strings.Contains(d, "Subject: Hello") || !strings.Contains(d, "Body text") {
			t.Fatalf("delivered %q", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing delivered")
	}
}

func TestSMTPGivesUpOnAHungServer(t *testing.T) {
	addr, _ := smtpPeer(t, true)
	s, err := NewSMTP("smtp://"+addr, "margin@example.org")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Send(ctx, Message{ToEmail: "a@example.org", Subject: "x", Body: "y"}); err == nil {
		t.Fatal("send to a hung server succeeded")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("send took %s despite the deadline", d)
	}
}

func TestNewSMTPRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "http://host:25", "smtp://", "::"} {
		if _, err := NewSMTP(u, "m@example.org"); err == nil {
			t.Errorf("NewSMTP(%q) accepted", u)
		}
	}
}
