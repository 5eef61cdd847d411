"""The list benchmarks' HTTP client, in a process of its own as a user's browser or script is:
in the server's process its CPU and the GIL it holds would count against the server.

Reads one JSON request a line on stdin ({"path", "params", "headers"}), answers one JSON line
on stdout: the status, the milliseconds from sending the request to reading the whole answer
(keep-alive, as a client paging through a list holds its connection), and the body if the
status is not 200."""

from __future__ import annotations

import json
import sys
import time

import httpx


def main() -> None:
    with httpx.Client(base_url=sys.argv[1], timeout=60) as http:
        for line in sys.stdin:
            asked = json.loads(line)
            start = time.perf_counter()
            response = http.get(asked["path"], params=asked["params"], headers=asked["headers"])
            elapsed = (time.perf_counter() - start) * 1000
            body = "" if response.status_code == 200 else response.text
            answer = {"status": response.status_code, "ms": elapsed, "body": body}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
