# CIS 5.4.3.2: idle interactive shells end after 15 minutes.
TMOUT=900
readonly TMOUT
export TMOUT
