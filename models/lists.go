package models

import (
	"sort"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Option is a code and the label people see.
type Option struct {
	Value string
	Label string
}

// StakeholderGroups lists the groups of the contract, in display order.
var StakeholderGroups = []Option{
	{"government", "Government"},
	{"private_sector", "Private sector"},
	{"civil_society", "Civil society"},
	{"technical_community", "Technical community"},
	{"academia", "Academia"},
	{"intergovernmental", "Intergovernmental organisation"},
	{"media", "Media"},
	{"other", "Other"},
}

// StakeholderGroupLabel returns the display name of a group code.
func StakeholderGroupLabel(code string) string { return label(StakeholderGroups, code) }

// Roles lists the user roles.
var Roles = []Option{
	{RoleCommenter, "Commenter"},
	{RoleModerator, "Moderator"},
	{RoleAdmin, "Administrator"},
}

// RoleLabel returns the display name of a role.
func RoleLabel(code string) string { return label(Roles, code) }

// CommentKinds lists the kinds of comment.
var CommentKinds = []Option{
	{"general", "General"},
	{"substantive", "Substantive"},
	{"editorial", "Editorial"},
}

// KindLabel returns the display name of a comment kind.
func KindLabel(code string) string { return label(CommentKinds, code) }

// Visibilities lists who may see a comment.
var Visibilities = []Option{
	{VisibilityPublic, "Public: my name and affiliation are shown"},
	{VisibilityAnonymous, "Anonymous: shown as a participant of my stakeholder group"},
	{VisibilityPrivate, "Private: seen by the moderators only, never published"},
}

// Statuses lists the moderation statuses.
var Statuses = []Option{
	{StatusPending, "Pending"},
	{StatusAccepted, "Accepted"},
	{StatusDeferred, "Deferred"},
	{StatusRejected, "Rejected"},
	{StatusSpam, "Spam"},
}

// ValidStatus reports whether s is a moderation status.
func ValidStatus(s string) bool { return validOption(Statuses, s) }

// StatusLabel returns the display name of a status.
func StatusLabel(code string) string { return label(Statuses, code) }

func label(opts []Option, code string) string {
	for _, o := range opts {
		if o.Value == code {
			return o.Label
		}
	}
	return code
}

func validOption(opts []Option, code string) bool {
	for _, o := range opts {
		if o.Value == code {
			return true
		}
	}
	return false
}

var (
	countriesOnce sync.Once
	countries     []Option
)

// Countries lists ISO 3166-1 alpha-2 countries with English names, sorted by
// name. The list comes from CLDR data in golang.org/x/text.
func Countries() []Option {
	countriesOnce.Do(func() {
		names := display.English.Regions()
		for a := 'A'; a <= 'Z'; a++ {
			for b := 'A'; b <= 'Z'; b++ {
				code := string([]rune{a, b})
				r, err := language.ParseRegion(code)
				if err != nil || !r.IsCountry() || r.String() != code {
					continue
				}
				name := names.Name(r)
				if name == "" || name == code {
					continue
				}
				countries = append(countries, Option{Value: code, Label: name})
			}
		}
		sort.Slice(countries, func(i, j int) bool { return countries[i].Label < countries[j].Label })
	})
	return countries
}

// CountryName returns the English name of an alpha-2 code.
func CountryName(code string) string { return label(Countries(), code) }

func validCountry(code string) bool { return validOption(Countries(), code) }
