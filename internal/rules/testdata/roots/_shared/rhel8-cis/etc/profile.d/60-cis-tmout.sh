# CIS 5.4.3.2
TMOUT=900
readonly TMOUT
export TMOUT
