#!/usr/bin/python3
"""The authentication and authorization webhook of the test Kubernetes API server
(tests/support/kube_api_server.hpp). The standalone apiextensions-apiserver reads no token
file and has no RBAC: it asks this server, as a kube-apiserver would be asked, through its
--authentication-kubeconfig (TokenReview) and --authorization-kubeconfig
(SubjectAccessReview). HTTPS on 127.0.0.1, a port the kernel picks, printed as
"listening on 127.0.0.1:PORT". The rules are read from CONFIG at every request:

  {"tokens": {"TOKEN": {"username": "...", "groups": ["..."]}},
   "deny": [{"user": "...", "verb": "patch"}]}   # verb "*" denies every verb

A request is allowed unless a deny rule matches or it is anonymous; system:masters never
reaches here."""
import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    cert, key, config_path = sys.argv[1], sys.argv[2], sys.argv[3]

    def rules():
        with open(config_path) as f:
            return json.load(f)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (self.command, self.path))

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            review = json.loads(self.rfile.read(length) or b"{}")
            spec = review.get("spec", {})
            config = rules()
            if review.get("kind") == "TokenReview":
                user = config.get("tokens", {}).get(spec.get("token", ""))
                status = {"authenticated": False}
                if user is not None:
                    status = {"authenticated": True,
                              "user": {"username": user["username"], "groups": user.get("groups", [])}}
            elif review.get("kind") == "SubjectAccessReview":
                attributes = spec.get("resourceAttributes", {})
                # Nobody anonymous, as in a cluster with RBAC.
                denied = spec.get("user") == "system:anonymous" or any(rule.get("user") == spec.get("user") and
                             rule.get("verb") in ("*", attributes.get("verb"))
                             for rule in config.get("deny", []))
                status = {"allowed": not denied}
                if denied:
                    status["denied"] = True
                    status["reason"] = "denied by the test webhook"
            else:
                self.send_response(404)
                self.end_headers()
                return
            body = json.dumps({"apiVersion": review.get("apiVersion"), "kind": review.get("kind"),
                               "status": status}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
