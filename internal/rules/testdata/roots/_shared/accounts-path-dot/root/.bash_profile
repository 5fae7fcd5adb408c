# root: a tools directory after the system PATH, and the current directory
export PATH="$PATH:/opt/tools:."
