package views

import (
	"html/template"
	"time"
)

// Option is one choice of a select list or filter.
type Option struct {
	Value string
	Label string
}

// CurrentUser is the signed-in user as the layout shows it.
type CurrentUser struct {
	ID          int64
	Name        string
	Role        string // commenter, moderator or admin
	Verified    bool
	IsModerator bool // moderator or admin
	IsAdmin     bool
}

// Page holds what every page's layout needs. Each page struct embeds it.
type Page struct {
	Title   string
	CSRF    string       // value of the hidden _csrf field in every form
	User    *CurrentUser // nil when signed out
	Flashes []string     // one-time notices shown at the top
	Path    string       // current path, to mark the active nav item
}

// DocumentSummary is one document in a list.
type DocumentSummary struct {
	Slug           string
	Title          string
	Status         string // open, upcoming or closed
	OpensAt        *time.Time
	ClosesAt       *time.Time
	Version        int
	CommentCount   int64
	ParagraphCount int64
}

// HomePage lists the documents.
type HomePage struct {
	Page
	Open   []DocumentSummary
	Others []DocumentSummary // upcoming and closed
}

// RegisterForm is the registration form's values, echoed back on error.
type RegisterForm struct {
	Name             string
	Email            string
	Affiliation      string
	StakeholderGroup string
	Country          string
}

// RegisterPage is /register, and /setup for the first admin.
type RegisterPage struct {
	Page
	Form              RegisterForm
	Errors            map[string]string
	StakeholderGroups []Option
	Countries         []Option
	Done              bool   // after a successful submission: "check your mail"
	SetupToken        string // set on /setup only
	MinPassword       int
	MaxPassword       int
}

// LoginPage is /login.
type LoginPage struct {
	Page
	Email string
	Next  string
	Error string
}

// VerifyPage is /verify: a button that confirms the address by POST.
type VerifyPage struct {
	Page
	Token string
	Done  bool
	Error string
}

// TOCEntry is one heading in a document's table of contents.
type TOCEntry struct {
	Number int
	Level  int
	Text   string
}

// CommentView is one comment as pages show it.
type CommentView struct {
	ID               int64
	ParagraphNumbers []int // empty for a comment on the whole document
	AuthorName       string
	Affiliation      string
	StakeholderGroup string // label, e.g. "Civil society"
	Country          string // label; moderators only
	Email            string // moderators only
	Anonymous        bool   // shown as a participant of its stakeholder group
	BodyHTML         template.HTML
	ProposedHTML     template.HTML // empty when none proposed
	Kind             string        // label: General, Substantive, Editorial
	Visibility       string        // public, anonymous or private
	Status           string        // pending, accepted, deferred, rejected, spam
	StatusLabel      string
	Response         string
	CreatedAt        time.Time
	DecidedAt        *time.Time
	DocumentSlug     string
	DocumentTitle    string
}

// ParagraphView is one numbered paragraph of a document page.
type ParagraphView struct {
	ID           int64
	Number       int
	Kind         string
	Level        int
	HTML         template.HTML
	CommentCount int64
	Comments     []CommentView // published (and the viewer's own) comments
}

// CommentForm is the comment form's values, echoed back on error.
type CommentForm struct {
	Paragraphs   string // paragraph numbers, e.g. "37, 39-40"; empty for the whole document
	Body         string
	ProposedText string
	Kind         string
	Visibility   string
}

// DocumentView is the document a page is about.
type DocumentView struct {
	Slug     string
	Title    string
	Status   string
	OpensAt  *time.Time
	ClosesAt *time.Time
	Version  int
}

// DocumentPage is /documents/{slug}.
type DocumentPage struct {
	Page
	Document        DocumentView
	TOC             []TOCEntry
	Paragraphs      []ParagraphView
	GeneralComments []CommentView
	CanComment      bool
	CommentBlocked  string // why the form is not offered, when CanComment is false
	CanModerate     bool   // shows export links
	Form            CommentForm
	Errors          map[string]string
	Kinds           []Option
	Visibilities    []Option
	ExportFormats   []Option
	MaxBody         int
	MaxProposed     int
	MaxParagraphs   int
}

// MyCommentsPage is /me/comments.
type MyCommentsPage struct {
	Page
	Comments []CommentView
}

// ParagraphRef is a paragraph shown beside a comment.
type ParagraphRef struct {
	Number int
	HTML   template.HTML
}

// QueueItem is one comment in the moderation queue.
type QueueItem struct {
	Comment    CommentView
	Paragraphs []ParagraphRef
}

// ModerationPage is /moderation.
type ModerationPage struct {
	Page
	Documents  []Option
	Statuses   []Option
	Document   string // selected slug, empty for all
	Status     string // selected status
	Items      []QueueItem
	NextCursor string // empty on the last page
}

// DecisionView is one audit-log entry of a comment.
type DecisionView struct {
	At       time.Time
	Actor    string
	From     string
	To       string
	Response string
}

// CommentPage is /comments/{id}: a comment with its paragraphs and history.
type CommentPage struct {
	Page
	Comment    CommentView
	Paragraphs []ParagraphRef
	Decisions  []DecisionView // moderators only
	CanDecide  bool
	Moves      []Option // statuses the comment may move to
	Response   string
	Errors     map[string]string

	// The author's own pending comment can be edited or withdrawn.
	CanEdit      bool
	Form         CommentForm
	Kinds        []Option
	Visibilities []Option
	MaxBody      int
	MaxProposed  int
}

// PasswordForgotPage is /password/forgot: ask for a reset link.
type PasswordForgotPage struct {
	Page
	Email  string
	Done   bool
	Errors map[string]string
}

// PasswordResetPage is /password/reset: choose a new password with a
// mailed token.
type PasswordResetPage struct {
	Page
	Token       string
	Done        bool
	Errors      map[string]string
	MinPassword int
	MaxPassword int
}

// AccountPage is /me/account: the user's details and the password change
// form.
type AccountPage struct {
	Page
	Email            string
	Affiliation      string
	StakeholderGroup string
	Country          string
	Errors           map[string]string
	MinPassword      int
	MaxPassword      int
}

// UserRow is one user in the admin list.
type UserRow struct {
	ID               int64
	Name             string
	Email            string
	Role             string
	Affiliation      string
	StakeholderGroup string
	Country          string
	Verified         bool
	CreatedAt        time.Time
}

// ImportForm is the document import form's values, echoed back on error.
type ImportForm struct {
	Title    string
	Slug     string
	Format   string // markdown or text; ignored when a file is uploaded
	Source   string
	OpensAt  string // datetime-local value, UTC
	ClosesAt string
}

// AdminPage is /admin: users and their roles, documents and the import form.
type AdminPage struct {
	Page
	Users     []UserRow
	Roles     []Option
	Documents []DocumentSummary
	Form      ImportForm
	Errors    map[string]string
}

// ErrorPage is the generic error page.
type ErrorPage struct {
	Page
	Status  int
	Message string
}
