import socket, sys, time
# usage: listen.py PORT OUTFILE [reply-hex] ; captures the first bytes a client sends (up to 2 s of silence)
port, out = int(sys.argv[1]), sys.argv[2]
reply = bytes.fromhex(sys.argv[3]) if len(sys.argv) > 3 else b''
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', port)); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.settimeout(1.5); data = b''
try:
    while True:
        d = c.recv(65536)
        if not d: break
        data += d
        if reply and len(data) >= 1: c.sendall(reply); reply = b''
except socket.timeout: pass
open(out, 'wb').write(data); c.close()
