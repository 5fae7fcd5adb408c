package host

// UserAddDefaults is /etc/default/useradd as useradd(8) reads it: the
// defaults (INACTIVE, EXPIRE, SHELL, ...) given to accounts it creates.
type UserAddDefaults struct {
	File string `json:"file"`
	// Settings maps the key useradd recognised ("INACTIVE") to the last
	// line that set it.
	Settings map[string]Setting `json:"settings"`
}
