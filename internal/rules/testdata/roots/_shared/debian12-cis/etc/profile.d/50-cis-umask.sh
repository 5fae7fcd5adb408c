# CIS 5.4.3.3: shells start with a umask of 027.
umask 027
