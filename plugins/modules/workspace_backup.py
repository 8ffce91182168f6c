#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: workspace_backup
short_description: Back up the PicoClaw stack's config and workspace to a timestamped tar.gz
version_added: 0.1.0
description:
  - Writes a timestamped C(tar.gz) archive of selected directories of a deployed PicoClaw stack
    (by default its C(config), C(workspace) and C(state) directories; C(state) holds the delivery
    journal of messages not yet answered) and a C(.sha256) file next to it in
    C(sha256sum) format, so the archive can be checked with C(sha256sum -c).
  - The archive is written under a hidden temporary name, read back completely to verify it, and
    only then renamed into place. A failed or interrupted run never leaves a partial archive
    under the final name. Archives and checksum files are created with mode C(0600) because
    the config holds API keys and bot tokens.
  - Ownership is stored numerically (no user or group names) together with modes and
    modification times, so C(tar --same-owner -xpzf) restores them as they were.
  - The gateway may keep writing while the backup runs. Each file is copied before it is added,
    and re-read (up to O(retries) times) if its size, modification time or inode changed during
    the copy. If it is still changing, the bytes present when it was opened are archived, which
    for an append-only file such as a session JSONL log is a consistent prefix; such files are
    listed in RV(changing). Files that vanish during the backup are skipped and listed in RV(skipped).
  - After a successful backup, older archives with the same O(prefix) in O(dest) are removed so
    that at most O(retention) remain.
  - An entry of O(paths) that is itself a symbolic link (for example a workspace on another volume) is
    followed. Links below it are stored as links and never followed, not even when a file or directory
    is swapped for a link while the backup runs (files are opened relative to their parent directory
    without following links). Sockets, FIFOs and device nodes are skipped.
author:
  - PicoClaw maintainers (!UNKNOWN)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - In check mode the module reports the archive name, the number of files it would contain
        and the archives retention would remove, without writing or deleting anything.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
options:
  stack_dir:
    description:
      - Root directory of the deployed stack. Entries of O(paths) are relative to it, and so are
        the member names in the archive.
      - The gateway role passes its C(picoclaw_stack_dir) (C(/opt/stacks/picoclaw) by default).
    type: path
    required: true
  paths:
    description:
      - Directories or files under O(stack_dir) to include.
      - Entries must be relative and stay inside O(stack_dir). Missing entries are reported as a
        warning; the module fails only if none of them exists.
    type: list
    elements: str
    default: [config, workspace, state]
  dest:
    description:
      - Directory that receives the archives. Created with mode C(0700) if missing.
      - If it lies inside one of the backed-up O(paths), it is left out of the archive.
      - The gateway role passes its C(picoclaw_backup_host_dir) (C(/var/backups/picoclaw) by default).
    type: path
    required: true
  prefix:
    description:
      - File name prefix of the archives. The full name is O(prefix) followed by a UTC timestamp
        like C(20260131T235959Z) and C(.tar.gz).
      - Retention only considers archives with this prefix.
    type: str
    default: picoclaw-
  retention:
    description:
      - Number of archives with O(prefix) to keep in O(dest), including the new one. The oldest
        archives beyond this number are removed together with their C(.sha256) files.
      - V(0) keeps every archive.
    type: int
    default: 7
  retries:
    description:
      - How many times a file that changed while it was being copied is read again before its
        prefix is archived.
    type: int
    default: 3
notes:
  - The module always creates a new archive, so it always reports C(changed=true).
  - Restore with C(sha256sum -c NAME.tar.gz.sha256) in O(dest), then
    C(tar --numeric-owner --same-owner -xpzf NAME.tar.gz -C STACK_DIR) as root with the gateway stopped.
seealso:
  - module: picoclaw.stack.picoclaw_config
"""

EXAMPLES = r"""
---
- name: Back up config and workspace, keep the newest 7 archives
  picoclaw.stack.workspace_backup:
    stack_dir: /opt/stacks/picoclaw
    dest: /var/backups/picoclaw
  register: backup

- name: Show where the backup went
  ansible.builtin.debug:
    msg: "{{ backup.archive }} ({{ backup.size }} bytes, {{ backup.file_count }} files, sha256 {{ backup.sha256 }})"

- name: Keep two weeks of nightly workspace-only backups
  picoclaw.stack.workspace_backup:
    stack_dir: /opt/stacks/picoclaw
    dest: /var/backups/picoclaw
    paths:
      - workspace
    prefix: nightly-
    retention: 14
"""

RETURN = r"""
---
archive:
  description: Path of the archive that was created (or would be, in check mode).
  returned: success
  type: str
  sample: /var/backups/picoclaw/picoclaw-20260131T235959Z.tar.gz
checksum_file:
  description: Path of the C(.sha256) file written next to the archive, in C(sha256sum) format.
  returned: success
  type: str
  sample: /var/backups/picoclaw/picoclaw-20260131T235959Z.tar.gz.sha256
sha256:
  description: SHA-256 of the archive. Not returned in check mode.
  returned: success and not check mode
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
size:
  description: Size of the archive in bytes. V(0) in check mode.
  returned: success
  type: int
  sample: 48213
file_count:
  description: Number of regular files and symbolic links in the archive (directories not counted).
  returned: success
  type: int
  sample: 12
removed:
  description: Archives removed (or that would be removed, in check mode) to honour O(retention).
  returned: success
  type: list
  elements: str
  sample: [/var/backups/picoclaw/picoclaw-20260124T235959Z.tar.gz]
skipped:
  description: Archive member names that vanished during the backup or are not regular files, directories or links.
  returned: success
  type: list
  elements: str
  sample: [workspace/sessions/tmp.lock]
changing:
  description: Files that kept changing over all re-reads; the archive holds the bytes present when they were opened.
  returned: success
  type: list
  elements: str
  sample: [workspace/sessions/telegram-42.jsonl]
missing_paths:
  description: Entries of O(paths) that do not exist under O(stack_dir).
  returned: success
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.picoclaw.stack.plugins.module_utils.workspace_archive import (
    BackupError,
    create_backup,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            stack_dir=dict(type="path", required=True),
            paths=dict(type="list", elements="str", default=["config", "workspace", "state"]),
            dest=dict(type="path", required=True),
            prefix=dict(type="str", default="picoclaw-"),
            retention=dict(type="int", default=7),
            retries=dict(type="int", default=3),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["retries"] < 0:
        module.fail_json(msg="retries must be >= 0 (fix: use 0 to never re-read a changing file)")

    try:
        result = create_backup(
            stack_dir=params["stack_dir"],
            paths=params["paths"],
            dest=params["dest"],
            prefix=params["prefix"],
            retention=params["retention"],
            retries=params["retries"],
            check_mode=module.check_mode,
        )
    except BackupError as exc:
        module.fail_json(msg=to_native(exc))
    except (OSError, IOError) as exc:
        module.fail_json(msg="backup failed: %s" % to_native(exc))

    if result.missing_paths:
        module.warn("not found under %s, not backed up: %s" % (params["stack_dir"], ", ".join(result.missing_paths)))
    if result.skipped:
        module.warn("vanished or unsupported during backup, skipped: %s" % ", ".join(result.skipped))
    if result.changing:
        module.warn(
            "still changing after %d re-reads, archived as they were when opened: %s"
            % (params["retries"], ", ".join(result.changing))
        )
    module.exit_json(changed=True, **result.as_dict())


if __name__ == "__main__":
    main()
