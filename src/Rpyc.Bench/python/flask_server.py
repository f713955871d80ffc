"""rpycbench's Python HTTP peer: Flask on werkzeug's threaded server, with the benchmark routes
(the same as Rpyc.Bench's Kestrel server).

Run with Debian's interpreter: /usr/bin/python3 flask_server.py --host 127.0.0.1 --port 0
Prints "PORT <n>" on stdout once it listens. Exits when stdin closes (its parent is gone).
"""
import argparse
import logging
import os
import sys
import threading
import time

from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_payload import BinarySink, binary_chunk, compute, payload  # noqa: E402

app = Flask(__name__)


@app.get("/ping")
def ping():
    return Response(b"pong", mimetype="text/plain")


@app.post("/echo")
def echo():
    return Response(request.get_data(), mimetype="application/octet-stream")


@app.post("/upload")
def upload():
    return Response(str(len(request.get_data())), mimetype="text/plain")


@app.get("/download")
def download():
    return Response(payload(int(request.args["n"])), mimetype="application/octet-stream")


@app.get("/compute")
def compute_route():
    return Response(str(compute(int(request.args["n"]))), mimetype="text/plain")


@app.get("/sleep")
def sleep_route():
    seconds = float(request.args["s"])
    time.sleep(seconds)
    return Response(repr(seconds), mimetype="text/plain")


@app.get("/record")
def record():
    return jsonify({name: value for value, name in enumerate("abcdefghij")})


@app.get("/list")
def list_route():
    return jsonify(list(range(int(request.args["n"]))))


@app.get("/chain")
def chain():
    return Response(str(2 * int(request.args["x"]) + 1), mimetype="text/plain")


@app.get("/map")
def map_route():
    # The work of the RPyC callback scenario, done on the server: one request for every item.
    return jsonify([3 * i for i in range(int(request.args["n"]))])


# Binary transfers (rpycbench --test-binary-transfer): bodies are streamed and hashed as they come,
# never held whole; downloads are generated as they are sent.
BINARY_SINK = BinarySink()
BINARY_READ = 1 << 20


def _hash_body(upload_id):
    stream = request.stream
    while True:
        data = stream.read(BINARY_READ)
        if not data:
            break
        BINARY_SINK.append(upload_id, data)
    digest, total = BINARY_SINK.finish(upload_id)
    return jsonify({"sha256": digest, "bytes": total})


@app.post("/binary/upload")
def binary_upload():
    return _hash_body("whole-" + request.args.get("id", ""))


@app.post("/binary/append")
def binary_append():
    upload_id = request.args["id"]
    total = 0
    stream = request.stream
    while True:
        data = stream.read(BINARY_READ)
        if not data:
            break
        total = BINARY_SINK.append(upload_id, data)
    return Response(str(total), mimetype="text/plain")


@app.post("/binary/finish")
def binary_finish():
    digest, total = BINARY_SINK.finish(request.args["id"])
    return jsonify({"sha256": digest, "bytes": total})


@app.get("/binary/download")
def binary_download():
    offset = int(request.args["offset"])
    n = int(request.args["n"])

    def generate():
        for start in range(0, n, BINARY_READ):
            yield binary_chunk(offset + start, min(BINARY_READ, n - start))

    response = Response(generate(), mimetype="application/octet-stream")
    response.headers["Content-Length"] = str(n)
    return response


def watch_stdin():
    try:
        sys.stdin.read()
    finally:
        os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--watch-stdin", action="store_true")
    args = parser.parse_args()
    # Per-request log lines would cost more than some requests: keep errors only.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server(args.host, args.port, app, threaded=True)
    if args.watch_stdin:
        threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
