# A command client written the way the classic tutorials write it (kept so
# on purpose: it is the program frame-exec-server's classic mode serves).
# usage: tutorial_client.py PORT KEY COMMAND
import json
import socket
import struct
import sys

port, key, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3]
client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.settimeout(30)
client.connect(('127.0.0.1', port))
client.send(cmd.encode('utf-8'))
header_len = struct.unpack('i', client.recv(4))[0]
header = json.loads(client.recv(header_len).decode('utf-8'))
total_size = header[key]
recv_size = 0
data = b''
while recv_size < total_size:
    res = client.recv(1024)
    data += res
    recv_size += len(res)
sys.stdout.write(data.decode('utf-8'))
client.close()
