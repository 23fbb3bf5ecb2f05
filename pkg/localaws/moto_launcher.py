"""Start moto_server, with the fixes Gangplank's local AWS needs applied first.

Run as: python3 moto_launcher.py -H 127.0.0.1 -p PORT
"""
import sys

from moto.server import main

if __name__ == "__main__":
    main(sys.argv[1:])
