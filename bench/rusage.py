#!/usr/bin/env python3
"""rusage.py OUT COMMAND...: runs COMMAND and writes "wall_s max_rss_kib user_s sys_s" to OUT.

What /usr/bin/time -f "%e %M %U %S" writes, with microseconds instead of hundredths: the store
growth runs time operations of 10-50 ms, which hundredths cannot compare. The child's own
resource usage (wait4), not this script's; exits with the child's status."""
import os
import subprocess
import sys
import time

out, command = sys.argv[1], sys.argv[2:]
started = time.monotonic()
child = subprocess.Popen(command)
_, status, usage = os.wait4(child.pid, 0)
wall = time.monotonic() - started
with open(out, "w") as f:
    f.write(f"{wall:.4f} {usage.ru_maxrss} {usage.ru_utime:.4f} {usage.ru_stime:.4f}\n")
sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)
