# ~/.bash_profile
umask 022
[ -f ~/.bashrc ] && . ~/.bashrc
