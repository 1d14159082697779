package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// StrictJSON is Echo's JSON serializer with stricter reading: a body must be
// valid UTF-8 without unpaired surrogate escapes (encoding/json would
// silently turn both into U+FFFD), and must hold exactly one JSON value.
type StrictJSON struct {
	echo.DefaultJSONSerializer
}

// msgBadText answers text the database must never see.
const msgBadText = "The request contains text that is not valid UTF-8."

// Deserialize reads one JSON value from the request body into i.
func (StrictJSON) Deserialize(c echo.Context, i any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err // the body limit's 413 passes through
	}
	if !utf8.Valid(body) || hasLoneSurrogate(body) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, msgBadText)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(i); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("Field %q has the wrong type.", te.Field)).SetInternal(err)
		case errors.As(err, &se):
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("The JSON body is malformed at byte %d.", se.Offset)).SetInternal(err)
		}
		return echo.NewHTTPError(http.StatusBadRequest, "The JSON body could not be read.").SetInternal(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return echo.NewHTTPError(http.StatusBadRequest, "The body must hold exactly one JSON value.")
	}
	return nil
}

// hasLoneSurrogate reports whether a JSON text has a \uD800-\uDFFF escape
// that is not a high surrogate followed by a low one.
func hasLoneSurrogate(b []byte) bool {
	for i := 0; i+5 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] != 'u' {
			i++ // skip the escaped character, e.g. \\ or \"
			continue
		}
		r, ok := hex4(b[i+2 : i+6])
		if !ok {
			continue
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if i+11 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				if lo, ok := hex4(b[i+8 : i+12]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					i += 11
					continue
				}
			}
			return true
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		}
		i += 5
	}
	return false
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
