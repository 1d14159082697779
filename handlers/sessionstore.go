package handlers

import (
	"bytes"
	"encoding/gob"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"margin/models"
)

// sessionStore is a gorilla/sessions store that keeps session data in the
// database: the cookie carries only a signed random id, so deleting the row
// ends the session on every instance, and sign-in can issue a fresh id.
type sessionStore struct {
	store   *models.Store
	codec   securecookie.Codec
	name    string
	options sessions.Options
}

const sessionUserKey = "uid"

func newSessionStore(store *models.Store, secret []byte, name string, secure bool, idle time.Duration) *sessionStore {
	codec := securecookie.New(secret, nil)
	// The cookie's signed timestamp is refreshed on every response, so
	// MaxAge here is the idle timeout.
	codec.MaxAge(int(idle / time.Second))
	return &sessionStore{
		store: store,
		codec: codec,
		name:  name,
		options: sessions.Options{
			Path:     "/",
			MaxAge:   int(models.SessionAbsoluteTimeout / time.Second),
			HttpOnly: true,
			Secure:   secure,
			SameSite: http.SameSiteLaxMode,
		},
	}
}

// Get returns the request's session, cached per request by gorilla.
func (s *sessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the cookie, or starts an empty one.
func (s *sessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := s.fresh(name)
	ck, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var id string
	if err := s.codec.Decode(name, ck.Value, &id); err != nil {
		return sess, nil // tampered or expired cookie: start afresh
	}
	row, err := s.store.LoadSession(r.Context(), id)
	if errors.Is(err, models.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	if len(row.Data) > 0 {
		if err := gob.NewDecoder(bytes.NewReader(row.Data)).Decode(&sess.Values); err != nil {
			return sess, nil
		}
	}
	sess.ID = id
	sess.IsNew = false
	return sess, nil
}

const flashCookie = "margin_flash"

// flashes reads the signed notice cookie.
func (s *sessionStore) flashes(r *http.Request) []string {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	var out []string
	if err := s.codec.Decode(flashCookie, ck.Value, &out); err != nil {
		return nil
	}
	return out
}

// setFlashes writes the notice cookie, or deletes it when msgs is empty.
func (s *sessionStore) setFlashes(w http.ResponseWriter, msgs []string) error {
	opts := s.options
	if len(msgs) == 0 {
		opts.MaxAge = -1
		http.SetCookie(w, sessions.NewCookie(flashCookie, "", &opts))
		return nil
	}
	opts.MaxAge = 600
	enc, err := s.codec.Encode(flashCookie, msgs)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(flashCookie, enc, &opts))
	return nil
}

// fresh returns an empty session that will get a new id when saved.
func (s *sessionStore) fresh(name string) *sessions.Session {
	sess := sessions.NewSession(s, name)
	opts := s.options
	sess.Options = &opts
	sess.IsNew = true
	return sess
}

// Save writes the session row and the cookie; MaxAge < 0 deletes both.
func (s *sessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.store.DeleteSession(r.Context(), sess.ID); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	if sess.ID == "" {
		id, err := models.RandomToken()
		if err != nil {
			return err
		}
		sess.ID = id
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(sess.Values); err != nil {
		return err
	}
	var uid *int64
	if v, ok := sess.Values[sessionUserKey].(int64); ok {
		uid = &v
	}
	if err := s.store.SaveSession(r.Context(), sess.ID, uid, buf.Bytes()); err != nil {
		return err
	}
	return s.setCookie(w, sess)
}

// setCookie writes the session cookie with a fresh signed timestamp.
func (s *sessionStore) setCookie(w http.ResponseWriter, sess *sessions.Session) error {
	enc, err := s.codec.Encode(sess.Name(), sess.ID)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), enc, sess.Options))
	return nil
}
