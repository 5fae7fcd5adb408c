# This is a subpolicy to disable Encrypt then MAC
# for the SSH protocol (libssh and OpenSSH)
etm@SSH = DISABLE_ETM
