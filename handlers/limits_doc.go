package handlers

import (
	"fmt"
	"time"

	"margin/models"
)

// LimitRow is one line of the limits table in docs/security.md.
type LimitRow struct {
	Name  string
	Value string
}

// LimitsTable lists the security limits as docs/security.md states them; a
// test keeps the document and the configuration in step.
func LimitsTable(l Limits) []LimitRow {
	rate := func(x models.Limit) string { return fmt.Sprintf("%d per %s", x.Max, human(x.Window)) }
	return []LimitRow{
		{"Failed sign-ins per account", rate(l.SignInPerAccount)},
		{"Failed sign-ins per client address", rate(l.SignInPerAddress)},
		{"Registrations per client address", rate(l.RegisterPerAddr)},
		{"Password reset requests per client address", rate(l.ResetPerAddr)},
		{"Password reset mails per account", rate(l.ResetPerAccount)},
		{"Token redemptions (confirm, reset) per client address", rate(l.VerifyPerAddr)},
		{"Comments per user", rate(l.Comments.PerMinute) + ", " + rate(l.Comments.PerDay)},
		{"Session idle timeout", human(l.SessionIdle)},
		{"Session absolute timeout", human(models.SessionAbsoluteTimeout)},
		{"E-mail confirmation link lifetime", human(models.VerifyTokenTTL)},
		{"Password reset link lifetime", human(models.ResetTokenTTL)},
		{"Request body (web forms)", fmt.Sprintf("%d MiB", l.MaxRequestBytes>>20)},
		{"Request body (JSON API)", fmt.Sprintf("%d MiB", l.MaxJSONBytes>>20)},
		{"Document upload", fmt.Sprintf("%d MiB", l.MaxUploadBytes>>20)},
		{"Comment body / proposed text", fmt.Sprintf("%d / %d characters", models.MaxBodyLength, models.MaxProposedLength)},
		{"Paragraphs per comment", fmt.Sprint(models.MaxParagraphsPerComment)},
		{"Password length", fmt.Sprintf("%d to %d characters", models.MinPasswordLength, models.MaxPasswordLength)},
	}
}

// human writes a duration in the largest whole unit: "15 minutes", "7 days".
func human(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	}
	return unit(int64(d/time.Second), "second")
}
