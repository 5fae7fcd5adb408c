package rules

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
)

// AccountCheck asserts one property of the local accounts: the passwd,
// shadow, group and gshadow databases (os/users), and the login shells,
// interactive users' homes and root's PATH (config/homes). The assertions
// are a fixed set, each a function below, so a rule cannot ask for a
// property nobody implemented.
type AccountCheck struct {
	// Assert names the property (accountAssertions).
	Assert string `yaml:"assert"`
	// Exempt are account names the assertion skips (root_gid_0,
	// system_accounts_no_shell, invalid_shell_locked).
	Exempt []string `yaml:"exempt"`
	// MaxMode is the most permissive home directory mode
	// (interactive_homes), octal.
	MaxMode string `yaml:"max_mode"`
}

// accountAssertions maps each assertion to its evaluation.
var accountAssertions = map[string]func(c *AccountCheck, inv *host.Inventory) Outcome{
	"only_root_uid_0":           (*AccountCheck).onlyRootUID0,
	"root_gid_0":                (*AccountCheck).rootGID0,
	"only_root_gid_0":           (*AccountCheck).onlyRootGID0,
	"root_password_controlled":  (*AccountCheck).rootPasswordControlled,
	"no_future_password_change": (*AccountCheck).noFuturePasswordChange,
	"system_accounts_no_shell":  (*AccountCheck).systemAccountsNoShell,
	"invalid_shell_locked":      (*AccountCheck).invalidShellLocked,
	"all_shadowed":              (*AccountCheck).allShadowed,
	"no_empty_passwords":        (*AccountCheck).noEmptyPasswords,
	"primary_groups_exist":      (*AccountCheck).primaryGroupsExist,
	"shadow_group_empty":        (*AccountCheck).shadowGroupEmpty,
	"unique_uids":               (*AccountCheck).uniqueUIDs,
	"unique_gids":               (*AccountCheck).uniqueGIDs,
	"unique_user_names":         (*AccountCheck).uniqueUserNames,
	"unique_group_names":        (*AccountCheck).uniqueGroupNames,
	"interactive_homes":         (*AccountCheck).interactiveHomes,
	"interactive_dot_files":     (*AccountCheck).interactiveDotFiles,
	"root_path_safe":            (*AccountCheck).rootPathSafe,
}

// exemptAssertions are the assertions that take an exempt list.
var exemptAssertions = []string{"root_gid_0", "system_accounts_no_shell", "invalid_shell_locked"}

func (c *AccountCheck) validate() error {
	if _, ok := accountAssertions[c.Assert]; !ok {
		var names []string
		for n := range accountAssertions {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("account: assert %q: want one of %s", c.Assert, strings.Join(names, ", "))
	}
	if len(c.Exempt) > 0 && !slices.Contains(exemptAssertions, c.Assert) {
		return fmt.Errorf("account: exempt does not apply to %s", c.Assert)
	}
	if c.MaxMode != "" && c.Assert != "interactive_homes" {
		return fmt.Errorf("account: max_mode does not apply to %s", c.Assert)
	}
	if c.Assert == "interactive_homes" {
		if c.MaxMode == "" {
			return errors.New("account: interactive_homes needs max_mode")
		}
		if _, err := strconv.ParseUint(c.MaxMode, 8, 32); err != nil {
			return fmt.Errorf("account: max_mode %q is not an octal mode", c.MaxMode)
		}
	}
	return nil
}

func (c *AccountCheck) evaluate(inv *host.Inventory) Outcome {
	if len(inv.Users) == 0 {
		return errorf("no accounts were collected (/etc/passwd unread)")
	}
	o := accountAssertions[c.Assert](c, inv)
	if o.Status == finding.StatusPass {
		// A pass says "no entry is bad"; a line that was not read as an
		// entry may be one. A fail stands: a read entry decided it.
		if why := skippedLines(inv, assertionFiles(c.Assert)); why != "" {
			return Outcome{Status: finding.StatusError, Evidence: o.Evidence, Reason: why}
		}
	}
	return o
}

// assertionFiles names the account files whose every entry an
// assertion's pass speaks for.
func assertionFiles(assert string) []string {
	switch assert {
	case "only_root_gid_0", "unique_gids", "unique_group_names":
		return []string{"group"}
	case "primary_groups_exist":
		return []string{"passwd", "group"}
	case "shadow_group_empty":
		return []string{"passwd", "group", "gshadow"}
	case "root_password_controlled", "no_future_password_change", "invalid_shell_locked", "no_empty_passwords":
		return []string{"passwd", "shadow"}
	case "root_path_safe":
		return nil
	}
	return []string{"passwd"}
}

// skippedLines says which lines of files were not read as entries (NIS
// compat lines, lines glibc's parser would reject or that were too
// long), or "" when none were. An older inventory without
// AccountFiles cannot say, and is taken as it is.
func skippedLines(inv *host.Inventory, files []string) string {
	af := inv.AccountFiles
	if af == nil {
		return ""
	}
	var why []string
	for _, name := range files {
		f := map[string]*host.AccountFile{"passwd": &af.Passwd, "group": &af.Group, "shadow": &af.Shadow, "gshadow": &af.GShadow}[name]
		if f == nil || !f.Skipped() {
			continue
		}
		var parts []string
		if f.Compat > 0 {
			parts = append(parts, fmt.Sprintf("%d NIS compat lines (+/-; line %s), whose accounts nss_compat takes from NIS, unseen by this scan", f.Compat, lineList(f.CompatLines, f.Compat)))
		}
		if f.Unparsed > 0 {
			parts = append(parts, fmt.Sprintf("%d lines that were not read as entries (not in the form glibc reads, or too long; line %s)", f.Unparsed, lineList(f.UnparsedLines, f.Unparsed)))
		}
		why = append(why, f.Path+": "+strings.Join(parts, " and "))
	}
	if len(why) == 0 {
		return ""
	}
	return strings.Join(why, "; ") + ": an entry there may break the rule; fix or remove those lines, or judge them by hand"
}

// lineList spells the recorded line numbers, with "..." when there were
// more than were kept.
func lineList(lines []int, total int) string {
	var s []string
	for _, n := range lines {
		s = append(s, strconv.Itoa(n))
	}
	if total > len(lines) {
		s = append(s, "...")
	}
	return strings.Join(s, ", ")
}

// compatIDs returns the NIS compat entries of f that spell an id the
// pick function returns, other than for the account named root.
func compatIDs(f *host.AccountFile, id int, pick func(host.CompatEntry) *int) []host.CompatEntry {
	var out []host.CompatEntry
	for _, e := range f.CompatIDs {
		if v := pick(e); v != nil && *v == id && len(e.Name) > 0 && e.Name[1:] != "root" {
			out = append(out, e)
		}
	}
	return out
}

// passwdAt spells where an account is defined.
func passwdAt(u host.User) string {
	if u.Line > 0 {
		return fmt.Sprintf("/etc/passwd:%d", u.Line)
	}
	return "/etc/passwd"
}

func groupAt(g host.Group) string {
	if g.Line > 0 {
		return fmt.Sprintf("/etc/group:%d", g.Line)
	}
	return "/etc/group"
}

func shadowAt(u host.User) string {
	if u.Shadow != nil && u.Shadow.Line > 0 {
		return fmt.Sprintf("/etc/shadow:%d", u.Shadow.Line)
	}
	return "/etc/shadow"
}

// shadowRead reports whether /etc/shadow was read: some account has an
// entry, or is known to have none.
func shadowRead(inv *host.Inventory) bool {
	for _, u := range inv.Users {
		if u.Shadow != nil || u.NoShadowEntry {
			return true
		}
	}
	return false
}

// groupsRead reports whether /etc/group was read.
func groupsRead(inv *host.Inventory) bool { return len(inv.Groups) > 0 }

// accounts returns the config/homes facts, or why they are missing.
func accounts(inv *host.Inventory) (*host.Accounts, *Outcome) {
	if inv.Config == nil || inv.Config.Accounts == nil {
		o := errorf("login shells and homes were not collected (config/homes)")
		return nil, &o
	}
	return inv.Config.Accounts, nil
}

func (c *AccountCheck) onlyRootUID0(inv *host.Inventory) Outcome {
	var bad []string
	for _, u := range inv.Users {
		if u.UID == 0 && u.Name != "root" {
			bad = append(bad, fmt.Sprintf("%s: %s has uid 0", passwdAt(u), u.Name))
		}
	}
	if af := inv.AccountFiles; af != nil {
		for _, e := range compatIDs(&af.Passwd, 0, func(e host.CompatEntry) *int { return e.UID }) {
			bad = append(bad, fmt.Sprintf("/etc/passwd:%d: the NIS compat entry %s spells uid 0 (glibc's getpwent lists it as an account of that name with uid 0)", e.Line, e.Name))
		}
	}
	if len(bad) > 0 {
		return fail(bad...)
	}
	return pass("/etc/passwd: no account other than root has uid 0")
}

func (c *AccountCheck) rootGID0(inv *host.Inventory) Outcome {
	var bad, ev []string
	found := false
	for _, u := range inv.Users {
		switch {
		case u.Name == "root":
			found = true
			if u.GID != 0 {
				bad = append(bad, fmt.Sprintf("%s: root's primary gid is %d, want 0", passwdAt(u), u.GID))
			} else {
				ev = append(ev, fmt.Sprintf("%s: root's primary gid is 0", passwdAt(u)))
			}
		case u.GID == 0 && !slices.Contains(c.Exempt, u.Name):
			bad = append(bad, fmt.Sprintf("%s: %s has primary gid 0", passwdAt(u), u.Name))
		}
	}
	if !found {
		bad = append(bad, "/etc/passwd: no root account")
	}
	if af := inv.AccountFiles; af != nil {
		for _, e := range compatIDs(&af.Passwd, 0, func(e host.CompatEntry) *int { return e.GID }) {
			if !slices.Contains(c.Exempt, e.Name[1:]) {
				bad = append(bad, fmt.Sprintf("/etc/passwd:%d: the NIS compat entry %s spells primary gid 0", e.Line, e.Name))
			}
		}
	}
	if len(bad) > 0 {
		return fail(bad...)
	}
	return pass(append(ev, fmt.Sprintf("/etc/passwd: no other account has primary gid 0 (exempt: %s)", orNone(c.Exempt)))...)
}

func (c *AccountCheck) onlyRootGID0(inv *host.Inventory) Outcome {
	if !groupsRead(inv) {
		return errorf("/etc/group was not collected")
	}
	var bad []string
	for _, g := range inv.Groups {
		if g.GID == 0 && g.Name != "root" {
			bad = append(bad, fmt.Sprintf("%s: group %s has gid 0", groupAt(g), g.Name))
		}
	}
	if af := inv.AccountFiles; af != nil {
		for _, e := range compatIDs(&af.Group, 0, func(e host.CompatEntry) *int { return e.GID }) {
			bad = append(bad, fmt.Sprintf("/etc/group:%d: the NIS compat entry %s spells gid 0", e.Line, e.Name))
		}
	}
	if len(bad) > 0 {
		return fail(bad...)
	}
	return pass("/etc/group: no group other than root has gid 0")
}

func (c *AccountCheck) rootPasswordControlled(inv *host.Inventory) Outcome {
	if !shadowRead(inv) {
		return errorf("/etc/shadow could not be read: root's password state is unknown")
	}
	var bad, ev []string
	found := false
	for _, u := range inv.Users {
		if u.Name != "root" {
			continue
		}
		found = true
		switch {
		case u.Shadow == nil:
			bad = append(bad, fmt.Sprintf("/etc/shadow: no entry for root (%s password field: %s)", passwdAt(u), u.PasswdField))
		case u.Shadow.PasswordState == "empty":
			bad = append(bad, fmt.Sprintf("%s: root's password field is empty: login without a password", shadowAt(u)))
		default:
			ev = append(ev, fmt.Sprintf("%s: root's password is %s", shadowAt(u), describeState(u.Shadow.PasswordState)))
		}
	}
	if !found {
		return fail("/etc/passwd: no root account")
	}
	if len(bad) > 0 {
		return fail(bad...)
	}
	return pass(ev...)
}

func describeState(s string) string {
	switch s {
	case "set":
		return "set"
	case "locked":
		return "locked (a hash behind !)"
	case "none":
		return "locked (no hash can match)"
	case "empty":
		return "empty"
	}
	return s
}

// noFuturePasswordChange: the last change of each usable password is not
// after the day of collection.
func (c *AccountCheck) noFuturePasswordChange(inv *host.Inventory) Outcome {
	if !shadowRead(inv) {
		return errorf("/etc/shadow could not be read: password change dates are unknown")
	}
	if inv.CollectedAt.IsZero() {
		return errorf("the inventory has no collection time to compare change dates with")
	}
	today := int(inv.CollectedAt.Unix() / 86400)
	var bad []string
	checked := 0
	for _, u := range inv.Users {
		if u.Shadow == nil || u.Shadow.PasswordState != "set" {
			continue
		}
		checked++
		if lc := u.Shadow.LastChange; lc != nil && *lc > today {
			bad = append(bad, fmt.Sprintf("%s: %s last changed the password on day %d (%s), after the day of the scan %d (%s)",
				shadowAt(u), u.Name, *lc, dayDate(*lc), today, dayDate(today)))
		}
	}
	if len(bad) > 0 {
		return fail(bad...)
	}
	return pass(fmt.Sprintf("/etc/shadow: none of the %d users with a password changed it after %s", checked, dayDate(today)))
}

func dayDate(day int) string {
	return time.Unix(int64(day)*86400, 0).UTC().Format("2006-01-02")
}

// loginUIDMin returns UID_MIN of login.defs (shadow's default 1000 when
// unset) and where it came from.
func loginUIDMin(inv *host.Inventory) (int, string, *Outcome) {
	if inv.Config == nil || inv.Config.Login == nil {
		o := errorf("/etc/login.defs was not collected: UID_MIN is unknown")
		return 0, "", &o
	}
	s, ok := inv.Config.Login.Settings["UID_MIN"]
	if !ok {
		return 1000, inv.Config.Login.File + ": UID_MIN unset, default 1000", nil
	}
	v, err := strconv.Atoi(strings.TrimSpace(s.Value))
	if err != nil {
		o := errorf("%s: UID_MIN %q is not a number", where(s), s.Value)
		return 0, "", &o
	}
	return v, fmt.Sprintf("%s: UID_MIN %d", where(s), v), nil
}

func (c *AccountCheck) systemAccountsNoShell(inv *host.Inventory) Outcome {
	a, o := accounts(inv)
	if o != nil {
		return *o
	}
	if a.ShellsError != "" {
		return errorf("/etc/shells could not be read: %s", a.ShellsError)
	}
	uidMin, from, o := loginUIDMin(inv)
	if o != nil {
		return *o
	}
	var bad []string
	checked := 0
	for _, u := range inv.Users {
		if (u.UID >= uidMin && u.UID != 65534) || slices.Contains(c.Exempt, u.Name) {
			continue
		}
		checked++
		if a.LoginShell(u.Shell) {
			bad = append(bad, fmt.Sprintf("%s: system account %s (uid %d) has the login shell %s", passwdAt(u), u.Name, u.UID, u.Shell))
		}
	}
	if len(bad) > 0 {
		return fail(append(bad, from)...)
	}
	return pass(fmt.Sprintf("/etc/passwd: none of the %d system accounts (uid below %d, or 65534; exempt: %s) has a login shell", checked, uidMin, orNone(c.Exempt)), from)
}

func (c *AccountCheck) invalidShellLocked(inv *host.Inventory) Outcome {
	a, o := accounts(inv)
	if o != nil {
		return *o
	}
	if a.ShellsError != "" {
		return errorf("/etc/shells could not be read: %s", a.ShellsError)
	}
	if !shadowRead(inv) {
		return errorf("/etc/shadow could not be read: whether accounts are locked is unknown")
	}
	var bad []string
	checked := 0
	for _, u := range inv.Users {
		if slices.Contains(c.Exempt, u.Name) || slices.Contains(a.Shells, u.Shell) {
			continue
		}
		checked++
		switch {
		case u.Shadow == nil && u.PasswdField == "shadowed":
			// "x" without a shadow entry: no password can match.
		case u.Shadow == nil:
			bad = append(bad, fmt.Sprintf("%s: %s (shell %s) has no /etc/shadow entry and a password field that is %s", passwdAt(u), u.Name, u.Shell, u.PasswdField))
		case u.Shadow.PasswordState == "locked" || u.Shadow.PasswordState == "none":
		default:
			bad = append(bad, fmt.Sprintf("%s: %s (shell %s, not in /etc/shells) is not locked: password %s", shadowAt(u), u.Name, u.Shell, describeState(u.Shadow.PasswordState)))
		}
	}
	if len(bad) > 0 {
		return fail(bad...)
	}
	return pass(fmt.Sprintf("/etc/shadow: all %d accounts whose shell is not in /etc/shells are locked (exempt: %s)", checked, orNone(c.Exempt)))
}

func (c *AccountCheck) allShadowed(inv *host.Inventory) Outcome {
	var bad, unknown []string
	for _, u := range inv.Users {
		switch u.PasswdField {
		case "shadowed":
		case "":
			unknown = append(unknown, u.Name)
		default:
			what := "holds a hash or another value"
			if u.PasswdField == "empty" {
				what = "is empty"
			}
			bad = append(bad, fmt.Sprintf("%s: %s's password field %s, not x", passwdAt(u), u.Name, what))
		}
	}
	if len(bad) > 0 {
		return fail(bad...)
	}
	if len(unknown) > 0 {
		return errorf("the password field of %s was not collected (an older inventory)", strings.Join(unknown, ", "))
	}
	return pass(fmt.Sprintf("/etc/passwd: all %d accounts have x in the password field", len(inv.Users)))
}

func (c *AccountCheck) noEmptyPasswords(inv *host.Inventory) Outcome {
	if !shadowRead(inv) {
		return errorf("/etc/shadow could not be read: empty passwords are unknown")
	}
	var bad []string
	for _, u := range inv.Users {
		switch {
		case u.Shadow != nil && u.Shadow.PasswordState == "empty":
			bad = append(bad, fmt.Sprintf("%s: %s has an empty password field", shadowAt(u), u.Name))
		case u.Shadow == nil && u.PasswdField == "empty":
			bad = append(bad, fmt.Sprintf("%s: %s has no /etc/shadow entry and an empty passwd password field", passwdAt(u), u.Name))
		}
	}
	if len(bad) > 0 {
		return fail(bad...)
	}
	return pass(fmt.Sprintf("/etc/shadow: none of the %d accounts has an empty password field", len(inv.Users)))
}

func (c *AccountCheck) primaryGroupsExist(inv *host.Inventory) Outcome {
	if !groupsRead(inv) {
		return errorf("/etc/group was not collected")
	}
	gids := map[int]bool{}
	for _, g := range inv.Groups {
		gids[g.GID] = true
	}
	var bad []string
	for _, u := range inv.Users {
		if !gids[u.GID] {
			bad = append(bad, fmt.Sprintf("%s: %s's primary gid %d is not in /etc/group", passwdAt(u), u.Name, u.GID))
		}
	}
	if len(bad) > 0 {
		return fail(bad...)
	}
	return pass(fmt.Sprintf("/etc/group: the primary gids of all %d accounts exist", len(inv.Users)))
}

func (c *AccountCheck) shadowGroupEmpty(inv *host.Inventory) Outcome {
	if !groupsRead(inv) {
		return errorf("/etc/group was not collected")
	}
	var bad []string
	var gids []int
	for _, g := range inv.Groups {
		if g.Name != "shadow" {
			continue
		}
		gids = append(gids, g.GID)
		if len(g.Members) > 0 {
			bad = append(bad, fmt.Sprintf("%s: group shadow lists %s", groupAt(g), strings.Join(g.Members, ", ")))
		}
		if s := g.Shadow; s != nil && len(s.Members) > 0 {
			bad = append(bad, fmt.Sprintf("/etc/gshadow:%d: group shadow lists %s", s.Line, strings.Join(s.Members, ", ")))
		}
	}
	if len(gids) == 0 {
		return pass("/etc/group: there is no shadow group")
	}
	for _, u := range inv.Users {
		if slices.Contains(gids, u.GID) {
			bad = append(bad, fmt.Sprintf("%s: %s has the shadow group (gid %d) as primary group", passwdAt(u), u.Name, u.GID))
		}
	}
	if len(bad) > 0 {
		return fail(bad...)
	}
	ev := fmt.Sprintf("/etc/group: group shadow (gid %d) has no members and is no account's primary group", gids[0])
	// Members listed only in /etc/gshadow get the group too (newgrp,
	// and initgroups on some systems): say whether it was read.
	af := inv.AccountFiles
	switch {
	case af == nil:
		return pass(ev, "/etc/gshadow: whether it was read is not recorded (an older inventory); its member list was not judged")
	case af.GShadow.Read:
		return pass(ev, "/etc/gshadow: read; the shadow group lists no members there")
	case af.GShadow.Missing:
		return pass(ev, "/etc/gshadow does not exist: only /etc/group was read")
	case af.GShadow.Error != "":
		return Outcome{Status: finding.StatusError, Evidence: []string{ev},
			Reason: "/etc/gshadow exists but could not be read (" + af.GShadow.Error + "): the members it gives the shadow group are unknown"}
	}
	return Outcome{Status: finding.StatusError, Evidence: []string{ev}, Reason: "/etc/gshadow was not read"}
}

// duplicates lists the keys used by more than one entry, with where.
func duplicates[T any](entries []T, key func(T) string, at func(T) string) []string {
	byKey := map[string][]string{}
	var order []string
	for _, e := range entries {
		k := key(e)
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], at(e))
	}
	var out []string
	for _, k := range order {
		if len(byKey[k]) > 1 {
			out = append(out, fmt.Sprintf("%s is used %d times: %s", k, len(byKey[k]), strings.Join(byKey[k], ", ")))
		}
	}
	return out
}

func (c *AccountCheck) uniqueUIDs(inv *host.Inventory) Outcome {
	if bad := duplicates(inv.Users, func(u host.User) string { return "uid " + strconv.Itoa(u.UID) },
		func(u host.User) string { return passwdAt(u) + " " + u.Name }); len(bad) > 0 {
		return fail(bad...)
	}
	return pass(fmt.Sprintf("/etc/passwd: the %d accounts have distinct uids", len(inv.Users)))
}

func (c *AccountCheck) uniqueUserNames(inv *host.Inventory) Outcome {
	if bad := duplicates(inv.Users, func(u host.User) string { return "user name " + u.Name },
		func(u host.User) string { return fmt.Sprintf("%s (uid %d)", passwdAt(u), u.UID) }); len(bad) > 0 {
		return fail(bad...)
	}
	return pass(fmt.Sprintf("/etc/passwd: the %d accounts have distinct names", len(inv.Users)))
}

func (c *AccountCheck) uniqueGIDs(inv *host.Inventory) Outcome {
	if !groupsRead(inv) {
		return errorf("/etc/group was not collected")
	}
	if bad := duplicates(inv.Groups, func(g host.Group) string { return "gid " + strconv.Itoa(g.GID) },
		func(g host.Group) string { return groupAt(g) + " " + g.Name }); len(bad) > 0 {
		return fail(bad...)
	}
	return pass(fmt.Sprintf("/etc/group: the %d groups have distinct gids", len(inv.Groups)))
}

func (c *AccountCheck) uniqueGroupNames(inv *host.Inventory) Outcome {
	if !groupsRead(inv) {
		return errorf("/etc/group was not collected")
	}
	if bad := duplicates(inv.Groups, func(g host.Group) string { return "group name " + g.Name },
		func(g host.Group) string { return fmt.Sprintf("%s (gid %d)", groupAt(g), g.GID) }); len(bad) > 0 {
		return fail(bad...)
	}
	return pass(fmt.Sprintf("/etc/group: the %d groups have distinct names", len(inv.Groups)))
}

// homeName spells a home directory, with where a link leads.
func homeName(p host.PathInfo) string {
	if p.Type == "link" && p.Resolved != "" {
		return p.Path + " (a symbolic link to " + p.Resolved + ")"
	}
	return p.Path
}

func (c *AccountCheck) interactiveHomes(inv *host.Inventory) Outcome {
	a, o := accounts(inv)
	if o != nil {
		return *o
	}
	max, _ := strconv.ParseUint(c.MaxMode, 8, 32)
	var bad, ev, unread []string
	for _, h := range a.Homes {
		d := h.Dir
		switch {
		case d.Error != "":
			unread = append(unread, fmt.Sprintf("%s's home %s: %s", h.User, d.Path, d.Error))
			continue
		case !d.Exists:
			bad = append(bad, fmt.Sprintf("%s's home %s does not exist", h.User, d.Path))
			continue
		case d.Type != "dir" && d.Type != "link":
			bad = append(bad, fmt.Sprintf("%s's home %s is a %s, not a directory", h.User, d.Path, d.Type))
			continue
		}
		var why []string
		if d.UID != h.UID {
			why = append(why, fmt.Sprintf("owned by %s (uid %d), not %s (uid %d)", orUID(d), d.UID, h.User, h.UID))
		}
		if extra := d.Mode & 0o7777 &^ uint32(max); extra != 0 {
			why = append(why, fmt.Sprintf("mode %04o allows %04o beyond %s", d.Mode&0o7777, extra, c.MaxMode))
		}
		if len(why) > 0 {
			bad = append(bad, fmt.Sprintf("%s's home %s: %s", h.User, homeName(d), strings.Join(why, ", ")))
		} else {
			ev = append(ev, fmt.Sprintf("%s's home %s: mode %04o, owned by %s", h.User, homeName(d), d.Mode&0o7777, h.User))
		}
	}
	if a.HomesTruncated {
		unread = append(unread, "more interactive users than were examined")
	}
	switch {
	case len(bad) > 0:
		return fail(bad...)
	case len(unread) > 0:
		return errorf("could not examine: %s", strings.Join(unread, "; "))
	case len(a.Homes) == 0:
		return pass("no interactive users (" + a.Source + ")")
	}
	return pass(ev...)
}

// forbiddenDotFiles are the files that must not exist in a home: mail
// forwarding that can run commands, rsh trust, and stored credentials.
var forbiddenDotFiles = []string{".forward", ".rhosts", ".netrc"}

func (c *AccountCheck) interactiveDotFiles(inv *host.Inventory) Outcome {
	a, o := accounts(inv)
	if o != nil {
		return *o
	}
	var bad, unread []string
	files, links := 0, 0
	for _, h := range a.Homes {
		if !h.Dir.Exists || h.Dir.Error != "" {
			continue // interactive_homes reports it
		}
		if h.DotFilesError != "" {
			unread = append(unread, h.DotFilesError)
		}
		if h.DotFilesTruncated {
			unread = append(unread, fmt.Sprintf("%s: not every entry was read", h.Dir.Path))
		}
		for _, f := range h.DotFiles {
			name := path.Base(f.Path)
			if slices.Contains(forbiddenDotFiles, name) {
				bad = append(bad, fmt.Sprintf("%s exists (%s's home)", f.Path, h.User))
				continue
			}
			if f.Error != "" {
				unread = append(unread, f.Path+": "+f.Error)
				continue
			}
			if f.Type == "link" {
				links++
				continue
			}
			if f.Type != "file" {
				continue
			}
			files++
			var why []string
			if f.UID != h.UID {
				why = append(why, fmt.Sprintf("owned by %s (uid %d), not %s (uid %d)", orUID(f), f.UID, h.User, h.UID))
			}
			if f.Mode&0o022 != 0 {
				why = append(why, fmt.Sprintf("mode %04o is group or world writable", f.Mode&0o7777))
			}
			if name == ".bash_history" && f.Mode&0o177 != 0 {
				why = append(why, fmt.Sprintf("mode %04o is more than 0600", f.Mode&0o7777))
			}
			if len(why) > 0 {
				bad = append(bad, fmt.Sprintf("%s: %s", f.Path, strings.Join(why, ", ")))
			}
		}
	}
	switch {
	case len(bad) > 0:
		return fail(bad...)
	case len(unread) > 0:
		return errorf("could not examine: %s", strings.Join(unread, "; "))
	}
	ev := fmt.Sprintf("%d dot files in %d interactive users' homes: none of %s, none writable by group or others or owned by another user", files, len(a.Homes), strings.Join(forbiddenDotFiles, ", "))
	if links > 0 {
		ev += fmt.Sprintf(" (%d symbolic links not judged)", links)
	}
	return pass(ev)
}

func (c *AccountCheck) rootPathSafe(inv *host.Inventory) Outcome {
	a, o := accounts(inv)
	if o != nil {
		return *o
	}
	rp := a.RootPath
	if rp == nil {
		return errorf("root's PATH was not collected")
	}
	if len(rp.Assignments) == 0 {
		return errorf("no PATH assignment in %s or login.defs ENV_SUPATH: root's PATH is whatever the program starting the shell sets", strings.Join(rp.Files, ", "))
	}
	dirs := map[string]host.PathInfo{}
	for _, d := range rp.Dirs {
		dirs[d.Path] = d
	}
	var bad, unknown, ev []string
	// A directory named by several assignments is judged once, with
	// every place that names it.
	namedAt := map[string][]string{}
	var order []string
	for _, as := range rp.Assignments {
		at := where(as)
		for i, e := range strings.Split(as.Value, ":") {
			x := rp.Expand(e)
			switch {
			case e == "":
				bad = append(bad, fmt.Sprintf("%s: PATH=%s: entry %d is empty (the current directory)", at, as.Value, i+1))
			case e == "$PATH" || e == "${PATH}":
			case strings.Contains(x, "$") || strings.Contains(x, "`"):
				unknown = append(unknown, fmt.Sprintf("%s: %s cannot be read without running the shell", at, e))
			case !path.IsAbs(x):
				bad = append(bad, fmt.Sprintf("%s: PATH=%s: %s is a relative directory", at, as.Value, e))
			default:
				x = path.Clean(x)
				if _, ok := namedAt[x]; !ok {
					order = append(order, x)
				}
				namedAt[x] = append(namedAt[x], at)
			}
		}
		ev = append(ev, fmt.Sprintf("%s: PATH=%s", at, as.Value))
	}
	for _, x := range order {
		at := strings.Join(namedAt[x], ", ")
		d, ok := dirs[x]
		switch {
		case !ok:
			unknown = append(unknown, fmt.Sprintf("%s (%s) was not examined", x, at))
		case d.Error != "":
			unknown = append(unknown, fmt.Sprintf("%s (%s): %s", x, at, d.Error))
		case !d.Exists:
			bad = append(bad, fmt.Sprintf("%s (%s) does not exist", x, at))
		default:
			var why []string
			if d.UID != 0 {
				why = append(why, fmt.Sprintf("owned by %s (uid %d), not root", orUID(d), d.UID))
			}
			if d.Mode&0o022 != 0 {
				why = append(why, fmt.Sprintf("mode %04o is writable by group or others", d.Mode&0o7777))
			}
			if len(why) > 0 {
				bad = append(bad, fmt.Sprintf("%s (%s): %s", homeName(d), at, strings.Join(why, ", ")))
			}
		}
	}
	switch {
	case len(bad) > 0:
		return fail(bad...)
	case len(unknown) > 0:
		return errorf("%s", strings.Join(unknown, "; "))
	}
	return pass(append(ev, "every directory exists, is owned by root and is not writable by group or others")...)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
