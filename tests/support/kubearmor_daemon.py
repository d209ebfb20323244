#!/usr/bin/python3
"""A test double of the KubeArmor daemon's policy.PolicyService (SPEC §12) on a real gRPC
server library (grpcio). No .proto and no protoc: generic handlers with raw bytes, and the two
one-field messages decoded and encoded by hand from the wire facts:
  message policy   { bytes policy = 1; }            // JSON {"type": ..., "object": POLICY}
  message response { PolicyStatus status = 1; }     // Failure 0, Applied 1, Deleted 2, Modified 3,
                                                    // NotExist 4, Invalid 5, NotEnabled 6
Every request is appended to --record as one JSON line {"rpc", "payload"}. Answers: Applied for
ADDED, Modified for MODIFIED, Deleted for DELETED, unless --config (a JSON file read at every
request, so a test can change it between runs) says otherwise:
  {"byName": {"NAME": "Invalid"}, "byKind": {"KubeArmorHostPolicy": "NotEnabled"},
   "delaySeconds": {"NAME": 5}, "abort": {"NAME": ["UNIMPLEMENTED", "message"]}}
"abort" ends the call with a gRPC error and no message: a trailers-only answer.
Prints "listening on 127.0.0.1:PORT" once it serves (port 0: the kernel picks).
"""
import argparse
import json
import os
import sys
import threading
import time
from concurrent import futures

import grpc

STATUSES = {"Failure": 0, "Applied": 1, "Deleted": 2, "Modified": 3, "NotExist": 4, "Invalid": 5, "NotEnabled": 6}
DEFAULTS = {"ADDED": "Applied", "MODIFIED": "Modified", "DELETED": "Deleted"}


def read_varint(data, pos):
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def decode_policy(message):
    """The bytes of field 1 of `policy`; other fields are skipped."""
    pos, payload = 0, b""
    while pos < len(message):
        key, pos = read_varint(message, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = read_varint(message, pos)
        elif wire == 2:
            size, pos = read_varint(message, pos)
            if field == 1:
                payload = message[pos:pos + size]
            pos += size
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ValueError("wire type %d" % wire)
    return payload


def encode_response(status):
    if status == 0:
        return b""  # proto3 leaves the default out
    return bytes([0x08, status])


class Daemon:
    def __init__(self, record, config):
        self.record = record
        self.config = config
        self.lock = threading.Lock()

    def settings(self):
        if not self.config or not os.path.exists(self.config):
            return {}
        with open(self.config) as f:
            return json.load(f)

    def handler(self, rpc):
        def handle(request, context):
            payload = decode_policy(request).decode("utf-8")
            with self.lock, open(self.record, "a") as f:
                f.write(json.dumps({"rpc": rpc, "payload": payload}) + "\n")
            event = json.loads(payload)
            obj = event.get("object", {})
            name = obj.get("metadata", {}).get("name", "")
            settings = self.settings()
            answer = DEFAULTS.get(event.get("type"), "Failure")
            answer = settings.get("byKind", {}).get(obj.get("kind", ""), answer)
            answer = settings.get("byName", {}).get(name, answer)
            delay = settings.get("delaySeconds", {}).get(name, 0)
            if delay:
                time.sleep(delay)
            abort = settings.get("abort", {}).get(name)
            if abort:
                context.abort(getattr(grpc.StatusCode, abort[0]), abort[1])
            return encode_response(STATUSES[answer])
        return grpc.unary_unary_rpc_method_handler(handle)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", required=True)
    parser.add_argument("--config")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--client-ca", help="require client certificates signed by this CA (mutual TLS)")
    args = parser.parse_args()

    daemon = Daemon(args.record, args.config)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handlers = {rpc: daemon.handler(rpc) for rpc in ("containerPolicy", "hostPolicy", "networkPolicy")}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("policy.PolicyService", handlers),))
    if args.tls_cert:
        with open(args.tls_key, "rb") as k, open(args.tls_cert, "rb") as c:
            pair = (k.read(), c.read())
        client_ca = open(args.client_ca, "rb").read() if args.client_ca else None
        credentials = grpc.ssl_server_credentials([pair], root_certificates=client_ca,
                                                  require_client_auth=client_ca is not None)
        port = server.add_secure_port("127.0.0.1:0", credentials)
    else:
        port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print("listening on 127.0.0.1:%d" % port, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    sys.exit(main())
