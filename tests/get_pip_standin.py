# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for get-pip.py, which ansible-test downloads from a host this machine cannot reach.

tests/ansible-test.sh copies it into ansible-test's cache. It bootstraps pip with ensurepip, then
installs what ansible-test asked for from PyPI. ansible-test runs it with a cleaned environment, so
PIP_CERT and /etc/pip.conf do not reach it, and the pip that ensurepip bundles (23.2.1 with Python
3.12.1) trusts only its own CA list: the system's bundle is passed explicitly, as newer pip does
through the system trust store.
"""

import ensurepip
import os
import subprocess
import sys

SYSTEM_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


def main():
    ensurepip.bootstrap(upgrade=True)
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    bundles = [path for path in SYSTEM_CA_BUNDLES if os.path.isfile(path)]
    if bundles:
        args = ["--cert", bundles[0]] + args
    return subprocess.call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    sys.exit(main())
