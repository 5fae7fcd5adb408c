# ~/.bashrc: executed by bash(1) for non-login shells (fixture: the
# interactive settings of /etc/skel are left out).

case $- in
    *i*) ;;
      *) return;;
esac

HISTCONTROL=ignoreboth
shopt -s histappend
