package host

// Units is what the service manager of a root would start: the state of
// each systemd unit file (enabled, static, disabled, masked...) computed
// from the unit directories and their links as `systemctl is-enabled`
// does, SysV init scripts and their rc?.d links, and, on a live host run
// by systemd, which units are active.
type Units struct {
	// Manager is "systemd" when the root has systemd unit files, "sysv"
	// when it has only /etc/init.d scripts.
	Manager string `json:"manager"`
	// DefaultTarget is the target default.target leads to, with the file
	// that says so (nil when there is none).
	DefaultTarget *Setting `json:"default_target,omitempty"`
	// Units maps a unit name ("cron.service") to its state. A unit absent
	// from the map has no unit file: systemctl says "not-found".
	Units map[string]Unit `json:"units"`
	// ActiveKnown is true when the active state of units was read from
	// the running systemd; ActiveSource says from where, or why not (an
	// image, PID 1 is not systemd, systemctl failed).
	ActiveKnown  bool   `json:"active_known"`
	ActiveSource string `json:"active_source"`
	// ActiveUnreadable is true when systemd runs this host but its
	// active states could not be read: then a unit may be running
	// though not enabled, and "not in use" cannot be decided.
	ActiveUnreadable bool `json:"active_unreadable,omitempty"`
	// Source lists the directories read and anything left out (caps).
	Source string `json:"source"`
	// Incomplete is true when the listing left something out: a unit
	// directory or dependency directory cut at a cap or unreadable, or
	// units past the cap. A unit missing from Units may then exist, and
	// a unit's links may be missing: "not in use" cannot be decided.
	Incomplete bool `json:"incomplete,omitempty"`
}

// Unit is one unit's state.
type Unit struct {
	// State is systemctl is-enabled's word: enabled, enabled-runtime,
	// static, disabled, indirect, masked, masked-runtime, alias, linked;
	// "generated" for a SysV script systemd-sysv-generator turns into a
	// unit (enabled when Links has rc?.d start links); "not-found" for a
	// unit only links name; "runtime" for a unit only the running systemd
	// knows (transient or generated at boot).
	State string `json:"state"`
	// Path is the unit file in effect (the first of the unit directories
	// to have one), or the /etc/init.d script.
	Path string `json:"path,omitempty"`
	// Links are the links that enable the unit: *.wants/, *.requires/ and
	// *.upholds/ links and aliases in /etc/systemd/system or
	// /run/systemd/system, or /etc/rc[2-5].d/S* links of a SysV script.
	Links []string `json:"links,omitempty"`
	// VendorLinks are *.wants/ (and similar) links in the vendor
	// directories (/usr/lib/systemd/system): the unit is pulled in by a
	// target as shipped, and systemctl calls it static.
	VendorLinks []string `json:"vendor_links,omitempty"`
	// MaskedBy is the /dev/null link or empty file that masks the unit.
	MaskedBy string `json:"masked_by,omitempty"`
	// AliasOf is the unit an alias link leads to.
	AliasOf string `json:"alias_of,omitempty"`
	// TriggeredBy are the .socket, .timer and .path units that start this
	// unit (Service= or Unit=, or the same name).
	TriggeredBy []string `json:"triggered_by,omitempty"`
	// Active and Sub are the running systemd's ACTIVE and SUB columns
	// (active/running, inactive/dead, failed/failed); empty when not known.
	Active string `json:"active,omitempty"`
	Sub    string `json:"sub,omitempty"`
}
