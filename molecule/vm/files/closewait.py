"""Hold N server sockets in CLOSE_WAIT on loopback port 47999 (the clients closed, the server did
not), plus the listener, until killed or --seconds pass. Prints "ready" once they are all there."""
import socket
import sys
import time

count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 300
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 47999))
listener.listen(count + 16)
servers = []
for _ in range(count):
    client = socket.create_connection(("127.0.0.1", 47999))
    servers.append(listener.accept()[0])
    client.close()  # FIN to the server side, which never closes: CLOSE_WAIT
time.sleep(1)
print("ready", flush=True)
time.sleep(seconds)
