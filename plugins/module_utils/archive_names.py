# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Names of the backup archives and which of them a retention count keeps. Standard library only."""

from __future__ import absolute_import, division, print_function

import datetime
import os
import re

__metaclass__ = type

ARCHIVE_SUFFIX = ".tar.gz"
CHECKSUM_SUFFIX = ".sha256"
_STAMP_FORMAT = "%Y%m%dT%H%M%SZ"


def archive_name(prefix, dest, now=None):
    """Timestamped name that does not exist yet in ``dest``."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    stamp = now.strftime(_STAMP_FORMAT)
    name = "%s%s%s" % (prefix, stamp, ARCHIVE_SUFFIX)
    serial = 1
    while os.path.lexists(os.path.join(dest, name)):
        serial += 1
        name = "%s%s-%d%s" % (prefix, stamp, serial, ARCHIVE_SUFFIX)
    return name


def list_archives(dest, prefix):
    """Archives made with ``prefix`` in ``dest``, oldest first."""
    pattern = re.compile(r"^%s(\d{8}T\d{6}Z)(?:-(\d+))?%s$" % (re.escape(prefix), re.escape(ARCHIVE_SUFFIX)))
    found = []
    try:
        names = os.listdir(dest)
    except FileNotFoundError:
        return []
    for name in names:
        match = pattern.match(name)
        if match:
            found.append(((match.group(1), int(match.group(2) or 1)), os.path.join(dest, name)))
    return [path for _key, path in sorted(found)]


def prunable(existing, retention, new_archive=None):
    """Archives to delete so that ``retention`` remain, counting the new one."""
    if retention <= 0:
        return []
    archives = list(existing)
    if new_archive is not None and new_archive not in archives:
        archives.append(new_archive)
    excess = len(archives) - retention
    return archives[:excess] if excess > 0 else []
