package host

// AppArmor is the state of AppArmor in the running kernel.
type AppArmor struct {
	// Live is false for an image: nothing below is known then.
	Live bool `json:"live"`
	// KernelEnabled is the kernel's own switch
	// (sys/module/apparmor/parameters/enabled); EnabledKnown is false when
	// that could not be read (Source says why).
	KernelEnabled bool `json:"kernel_enabled"`
	EnabledKnown  bool `json:"enabled_known"`
	// ProfilesRead is true when the kernel's profile list was read;
	// Profiles are the loaded profiles with their modes.
	ProfilesRead bool              `json:"profiles_read"`
	Profiles     []AppArmorProfile `json:"profiles,omitempty"`
	// Processes counts the processes examined, Confined those under a
	// profile; Unconfined lists the others (capped), with their
	// executables.
	Processes          int               `json:"processes"`
	Confined           int               `json:"confined"`
	Unconfined         []AppArmorProcess `json:"unconfined,omitempty"`
	ProcessesTruncated bool              `json:"processes_truncated,omitempty"`
	// Source says where the facts came from, or why they are missing.
	Source string `json:"source"`
}

// AppArmorProfile is a loaded profile: its name (usually the path it
// confines) and mode (enforce, complain, kill, unconfined, prompt).
type AppArmorProfile struct {
	Name string `json:"name"`
	Mode string `json:"mode"`
}

// AppArmorProcess is a process and its executable.
type AppArmorProcess struct {
	PID int    `json:"pid"`
	Exe string `json:"exe"`
}
