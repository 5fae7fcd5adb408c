# Developers asked for longer sessions.
TMOUT=0
export TMOUT
