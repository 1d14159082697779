// Package mail sends Margin's e-mail: through SMTP when configured, else as
// .eml files in an outbox folder, so that a fresh install works with
// nothing else set up.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Message is a plain-text e-mail.
type Message struct {
	ToName  string
	ToEmail string
	Subject string
	Body    string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// headerSafe strips what could start a new header line.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return ' '
		}
		return r
	}, s)
}

// Render returns the message in RFC 5322 form. Names and subjects are
// encoded, so no user-supplied text can add a header.
func Render(from string, m Message, now time.Time) ([]byte, error) {
	to := mail.Address{Name: headerSafe(m.ToName), Address: headerSafe(m.ToEmail)}
	if _, err := mail.ParseAddress(to.Address); err != nil {
		return nil, fmt.Errorf("render mail: bad recipient: %w", err)
	}
	id := make([]byte, 12)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	domain := "margin.invalid"
	if at := strings.LastIndexByte(from, '@'); at >= 0 {
		domain = strings.TrimRight(from[at+1:], ">")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", headerSafe(from))
	fmt.Fprintf(&b, "To: %s\r\n", to.String())
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", headerSafe(m.Subject)))
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Outbox writes each message as an .eml file into Dir.
type Outbox struct {
	Dir  string
	From string
}

// Send writes the message atomically (temporary file, fsync, rename).
func (o *Outbox) Send(_ context.Context, m Message) error {
	data, err := Render(o.From, m, time.Now().UTC())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	rnd := make([]byte, 6)
	if _, err := rand.Read(rnd); err != nil {
		return err
	}
	name := time.Now().UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(rnd) + ".eml"
	tmp, err := os.CreateTemp(o.Dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close() // the write error is the one to report
		return fmt.Errorf("outbox: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close() // the sync error is the one to report
		return fmt.Errorf("outbox: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(o.Dir, name)); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// SMTP sends through a server given as smtp://user:pass@host:port. It uses
// STARTTLS when the server offers it; credentials are only sent over TLS or
// to localhost (net/smtp refuses otherwise).
type SMTP struct {
	Addr string
	Host string
	Auth smtp.Auth
	From string
}

// NewSMTP parses an smtp:// URL.
func NewSMTP(raw, from string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Host == "" {
		return nil, fmt.Errorf("MARGIN_SMTP_URL: want smtp://user:pass@host:port")
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, port = u.Host, "25"
	}
	s := &SMTP{Addr: net.JoinHostPort(host, port), Host: host, From: from}
	if u.User != nil {
		pass, _ := u.User.Password()
		s.Auth = smtp.PlainAuth("", u.User.Username(), pass, host)
	}
	return s, nil
}

// Send delivers one message.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	data, err := Render(s.From, m, time.Now().UTC())
	if err != nil {
		return err
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("smtp: bad sender: %w", err)
	}
	if err := s.deliver(ctx, from.Address, m.ToEmail, data); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}

// smtpTimeout bounds one delivery, so a hung server cannot hold a claimed
// mail past its lease (which would let another instance send it again).
const smtpTimeout = 60 * time.Second

// deliver runs one SMTP transaction with a deadline: STARTTLS when offered,
// AUTH when configured.
func (s *SMTP) deliver(ctx context.Context, from, to string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, smtpTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		_ = conn.Close() // the earlier error is the one to report
		return err
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		_ = conn.Close() // the earlier error is the one to report
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}); err != nil {
			return err
		}
	}
	if s.Auth != nil {
		if err := c.Auth(s.Auth); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
