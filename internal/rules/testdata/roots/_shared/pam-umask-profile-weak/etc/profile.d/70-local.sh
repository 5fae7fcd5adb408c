# A later file undoes the 027 of 50-cis-umask.sh.
umask 022
