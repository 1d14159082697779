package handlers

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"margin/models"
)

// registerForm is the registration form and JSON body.
type registerForm struct {
	Name             string `form:"name" json:"name"`
	Email            string `form:"email" json:"email"`
	Password         string `form:"password" json:"password"`
	Affiliation      string `form:"affiliation" json:"affiliation"`
	StakeholderGroup string `form:"stakeholder_group" json:"stakeholder_group"`
	Country          string `form:"country" json:"country"`
}

func (f registerForm) newUser() models.NewUser {
	return models.NewUser{
		Name: f.Name, Email: f.Email, Password: f.Password, Affiliation: f.Affiliation,
		StakeholderGroup: f.StakeholderGroup, Country: f.Country,
	}
}

// register creates an account and mails a confirmation link. When the
// address is taken, the owner gets a mail saying so (with a fresh link if
// still unconfirmed) and the caller sees the same outcome: no enumeration.
func (h *Handler) register(c echo.Context, f registerForm) error {
	ctx := c.Request().Context()
	if err := h.store.Hit(ctx, clientKey(c, "register"), h.cfg.Limits.RegisterPerAddr); err != nil {
		return err
	}
	u, err := h.store.CreateUser(ctx, f.newUser())
	if errors.Is(err, models.ErrConflict) {
		existing, lerr := h.store.UserByEmail(ctx, f.Email)
		if lerr != nil {
			return lerr
		}
		return h.sendAlreadyRegistered(ctx, existing)
	}
	if err != nil {
		return err
	}
	return h.sendVerification(ctx, u)
}

func (h *Handler) sendVerification(ctx context.Context, u *models.User) error {
	tok, err := h.store.NewEmailToken(ctx, u.ID, models.PurposeVerify, models.VerifyTokenTTL)
	if err != nil {
		return err
	}
	link := h.cfg.BaseURL + "/verify?token=" + tok
	body := fmt.Sprintf("Hello %s,\n\nplease confirm your e-mail address for Margin by opening this link:\n\n%s\n\n"+
		"The link is valid for %d hours. If you did not register, ignore this mail.\n",
		oneLine(u.Name), link, int(models.VerifyTokenTTL.Hours()))
	return h.send(ctx, u, "Confirm your e-mail address", body)
}

func (h *Handler) sendAlreadyRegistered(ctx context.Context, u *models.User) error {
	body := fmt.Sprintf("Hello %s,\n\nsomeone (perhaps you) tried to register on Margin with this e-mail address, "+
		"which already has an account. You can sign in at %s/login.\n", oneLine(u.Name), h.cfg.BaseURL)
	if !u.Verified() {
		tok, err := h.store.NewEmailToken(ctx, u.ID, models.PurposeVerify, models.VerifyTokenTTL)
		if err != nil {
			return err
		}
		body += fmt.Sprintf("\nYour address is not confirmed yet. Confirm it here:\n\n%s/verify?token=%s\n", h.cfg.BaseURL, tok)
	}
	return h.send(ctx, u, "You already have a Margin account", body)
}

// send queues a mail to u in the outbox table, from which the mail worker
// of one instance delivers it (retrying until it goes out), and wakes the
// worker.
func (h *Handler) send(ctx context.Context, u *models.User, subject, body string) error {
	err := h.store.EnqueueMail(ctx, models.MailMessage{ToName: u.Name, ToEmail: u.Email, Subject: subject, Body: body})
	if err != nil {
		return fmt.Errorf("queue mail to user %d: %w", u.ID, err)
	}
	if h.cfg.NotifyMail != nil {
		h.cfg.NotifyMail()
	}
	h.log.Info("mail queued", "user_id", u.ID, "subject", subject)
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// signIn checks the pair under the per-address and per-account limits,
// counting failures only, and returns the user.
func (h *Handler) signIn(c echo.Context, email, password string) (*models.User, error) {
	ctx := c.Request().Context()
	l := h.cfg.Limits
	ipKey := clientKey(c, "signin")
	acctKey := "signin:acct:" + models.NormalizeEmail(email)
	if err := h.store.Check(ctx, ipKey, l.SignInPerAddress); err != nil {
		return nil, err
	}
	if err := h.store.Check(ctx, acctKey, l.SignInPerAccount); err != nil {
		return nil, err
	}
	u, err := h.store.Authenticate(ctx, email, password)
	if errors.Is(err, models.ErrUnauthenticated) {
		if herr := h.store.Hit(ctx, ipKey, models.Limit{Max: 1 << 30, Window: l.SignInPerAddress.Window}); herr != nil {
			return nil, herr
		}
		if herr := h.store.Hit(ctx, acctKey, models.Limit{Max: 1 << 30, Window: l.SignInPerAccount.Window}); herr != nil {
			return nil, herr
		}
	}
	return u, err
}

// startSession signs u in on a fresh session id (the old one is deleted, so
// a planted id is worthless: no session fixation).
func (h *Handler) startSession(c echo.Context, u *models.User) error {
	old := session(c)
	if old != nil && old.ID != "" {
		if err := h.store.DeleteSession(c.Request().Context(), old.ID); err != nil {
			return err
		}
	}
	sess := h.sessions.fresh(h.cfg.Limits.SessionCookieName)
	sess.Values[sessionUserKey] = u.ID
	sess.Values[sessionAuthAtKey] = h.store.Now().Unix()
	c.Set(ctxSession, sess)
	markSessionChanged(c)
	c.Set(ctxUser, u)
	return nil
}

// endSession deletes the session row and the cookie.
func (h *Handler) endSession(c echo.Context) error {
	sess := session(c)
	if sess == nil {
		return nil
	}
	sess.Options.MaxAge = -1
	return sess.Save(c.Request(), c.Response())
}

// setupState guards the one-time setup page that creates the first admin.
type setupState struct {
	mu    sync.Mutex
	token string
}

// valid reports whether tok is the live setup token.
func (s *setupState) valid(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) == 1
}

// spend ends the setup window once the first admin exists.
func (s *setupState) spend() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = ""
}
