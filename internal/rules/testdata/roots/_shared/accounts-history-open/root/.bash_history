ls
cd /etc
