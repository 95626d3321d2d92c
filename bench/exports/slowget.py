#!/usr/bin/env python3
"""slowget.py URL TOKEN RATE: download URL reading at most RATE bytes a
second from the first byte on (curl's --limit-rate averages over the whole
transfer, so a server that made it wait gets a burst), with small socket
buffers so the server sees a slow reader. Prints status, time to first byte,
total time and bytes."""
import http.client, socket, sys, time, urllib.parse

url, token, rate = sys.argv[1], sys.argv[2], float(sys.argv[3])
u = urllib.parse.urlsplit(url)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
conn.connect()
conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
t0 = time.monotonic()
conn.request("GET", u.path + "?" + u.query, headers={"Authorization": "Bearer " + token})
resp = conn.getresponse()
first = None
n = 0
while True:
    b = resp.read1(16 << 10)
    if not b:
        break
    now = time.monotonic()
    if first is None:
        first = now
    n += len(b)
    ahead = n / rate - (now - first)
    if ahead > 0:
        time.sleep(ahead)
end = time.monotonic()
print("status %d, first byte %.1f s, total %.1f s, %d bytes" % (resp.status, (first or end) - t0, end - t0, n))
