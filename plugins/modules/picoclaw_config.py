#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: picoclaw_config
short_description: Validate a PicoClaw gateway config.json and optionally write it atomically
version_added: 0.1.0
description:
  - Validates a PicoClaw C(config.json), either a file on the target (O(path)) or content given
    inline (O(content)), with exactly the validator the gateway itself runs at start-up.
  - Both config dialects are accepted, the stack dialect (C(llm) plus C(channel) or C(channels))
    and the upstream PicoClaw one (C(agents), C(providers), C(channels)); RV(dialect) tells which.
  - Every problem is reported with its JSON path, what is wrong and how to fix it. By default the
    module fails when the config is invalid and lists all errors in the message, one per line.
  - With O(dest), the validated content is written to O(dest) atomically (temporary file in the
    same directory, then rename) with the requested mode and ownership already applied, so the file
    never exists with wrong permissions or half-written. Nothing is written when the config is invalid.
  - Secrets (API keys, bot tokens, credentials in URLs) never appear in the result or the diff.
    RV(normalized) and the diff show the normalized config with secrets replaced by C(***).
author:
  - PicoClaw maintainers (!UNKNOWN)
extends_documentation_fragment:
  - files
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - The diff shows the redacted normalized config before and after, never the raw file content.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
options:
  path:
    description:
      - Path of a C(config.json) on the target to validate.
      - Mutually exclusive with O(content). One of O(path) and O(content) is required.
    type: path
  content:
    description:
      - The config to validate, as JSON text or as a dictionary.
      - Its secrets (what the validator redacts, and any value it cannot tell is harmless) are never
        logged nor returned; provider, model, user ids and the other plain values stay readable in
        the result and the messages, also when the content is given as a dictionary.
      - Mutually exclusive with O(path). One of O(path) and O(content) is required.
    type: raw
  fail_on_invalid:
    description:
      - Fail when the config has errors. With V(false) the module succeeds and reports the problems
        in RV(errors) and RV(valid); O(dest) is then left untouched.
    type: bool
    default: true
  dest:
    description:
      - Write the validated config to this file. Its directory must exist.
      - Text content and files from O(path) are written byte for byte; a dictionary O(content) is
        written as JSON indented by two spaces.
      - A new file gets mode C(0600) unless O(mode) is set; an existing file keeps its mode and
        ownership unless O(mode), O(owner) or O(group) say otherwise.
    type: path
notes:
  - O(mode), O(owner), O(group) and the other file attributes only apply together with O(dest).
  - O(unsafe_writes) is ignored; O(dest) is always replaced atomically.
  - In check mode a missing directory of O(dest) is not an error (an earlier task of the same run would
    create it); the module reports the file as new, with its redacted diff.
seealso:
  - module: picoclaw.stack.workspace_backup
"""

EXAMPLES = r"""
---
- name: Validate the deployed config
  picoclaw.stack.picoclaw_config:
    path: /opt/stacks/picoclaw/config/config.json

- name: Validate the rendered config and write it in one secret-safe step
  picoclaw.stack.picoclaw_config:
    content: "{{ lookup('ansible.builtin.template', 'config.json.j2') }}"
    dest: /opt/stacks/picoclaw/config/config.json
    owner: "1000"
    group: "1000"
    mode: "0600"
  no_log: true

- name: Report problems without failing
  picoclaw.stack.picoclaw_config:
    content:
      llm:
        provider: openrouter
        api_key: "{{ vault_openrouter_key }}"
        model: anthropic/claude-sonnet-4
      channel:
        type: telegram
        token: "{{ vault_telegram_token }}"
        allowed_users: ["123456789"]
    fail_on_invalid: false
  register: check

- name: Show every problem
  ansible.builtin.debug:
    msg: "{{ item.path }}: {{ item.message }} (fix: {{ item.fix }})"
  loop: "{{ check.errors + check.config_warnings }}"
"""

RETURN = r"""
---
valid:
  description: Whether the config has no errors.
  returned: always
  type: bool
  sample: true
dialect:
  description: Which config dialect was recognised, V(stack) or V(upstream); null if none could be.
  returned: always
  type: str
  sample: stack
errors:
  description: Problems that make the config unusable. Empty when RV(valid) is true.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: JSON path of the offending value.
      type: str
      sample: $.channel.allowed_users[0]
    message:
      description: What is wrong. Never contains secret values.
      type: str
      sample: must be a numeric Telegram user id
    fix:
      description: How to fix it.
      type: str
      sample: use the number @userinfobot replies with
  sample: []
config_warnings:
  description:
    - Problems that do not stop the gateway but probably should be fixed. Same shape as RV(errors).
    - Each is also emitted as an Ansible warning. (The name C(warnings) is reserved by Ansible.)
  returned: always
  type: list
  elements: dict
  sample: []
normalized:
  description:
    - The normalized config (defaults filled in, one shape for both dialects) with secrets replaced by C(***).
    - Null when the config is invalid.
  returned: always
  type: dict
  sample:
    llm:
      provider: openrouter
      api_key: "***"
      model: anthropic/claude-sonnet-4
      api_base: https://openrouter.ai/api/v1
      max_tokens: 4096
      temperature: null
      timeout_s: 60.0
dest:
  description: The file written (or that would be written in check mode).
  returned: when O(dest) is set
  type: str
  sample: /opt/stacks/picoclaw/config/config.json
checksum:
  description:
    - SHA-256 of the content of O(dest) once written, also in check mode, where the file on disk still holds the
      old content. The gateway role labels the container with it, so check mode predicts the recreate a change causes.
  returned: when O(dest) is set and the config is valid
  type: str
  sample: 5d2e71a09c3b4e0f9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071
"""

import hashlib
import json
import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.picoclaw.stack.plugins.module_utils.config_no_log import no_log_values
from ansible_collections.picoclaw.stack.plugins.module_utils.config_validator import (
    MAX_CONFIG_BYTES,
    redact,
    validate,
    validate_file,
    validate_text,
)

_HIDDEN = "(content not shown: it is not a valid PicoClaw config and may contain secrets)\n"


def _load(module):
    """Return (validation result, bytes to write or None)."""
    params = module.params
    if params["path"] is not None:
        path = params["path"]
        if params["dest"] is None:
            return validate_file(path), None
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_CONFIG_BYTES + 1)
        except (OSError, IOError):
            # validate_file turns the read problem into a proper error entry.
            return validate_file(path), None
        return validate_text(raw), raw

    content = params["content"]
    if isinstance(content, dict):
        raw = to_bytes(json.dumps(content, indent=2, ensure_ascii=False) + "\n")
        return validate(content), raw
    if isinstance(content, (str, bytes)):
        raw = to_bytes(content)
        return validate_text(raw), raw
    module.fail_json(
        msg="content must be JSON text or a dictionary, got %s (fix: pass the config as a string or a dict)"
        % type(content).__name__
    )
    return None, None  # not reached: fail_json exits


def _redacted_text(raw):
    """Diff-safe rendering of config bytes: the redacted normalized config, or a placeholder."""
    if raw is None:
        return ""
    result = validate_text(raw)
    if not result.valid:
        return _HIDDEN
    return json.dumps(redact(result.normalized), indent=2, sort_keys=True) + "\n"


def _read_existing(module, dest, output):
    """The current content of dest (None when absent); an unreadable dest fails the task, no traceback."""
    try:
        with open(dest, "rb") as handle:
            return handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return None
    except (OSError, IOError) as exc:
        module.fail_json(
            msg="cannot read the existing dest %s: %s — fix: make it a regular file readable by the task's user "
            "(become: true) or remove it" % (dest, exc.strerror or to_native(exc)),
            **output
        )
        return None  # not reached: fail_json exits


def _write_atomically(module, dest, raw):
    """Write ``raw`` to a temp file next to ``dest``, apply attributes, then rename over ``dest``."""
    params = module.params
    directory = os.path.dirname(os.path.abspath(dest))
    fd, tmp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(dest), suffix=".tmp", dir=directory)
    try:
        # Private from the first byte: the file holds API keys and tokens.
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            current = os.stat(dest)
        except FileNotFoundError:
            current = None
        if current is not None:
            # Keep what the existing file had unless the task says otherwise.
            os.chmod(tmp_path, stat.S_IMODE(current.st_mode))
            if os.geteuid() == 0:
                os.chown(tmp_path, current.st_uid, current.st_gid)
        if params["owner"] is not None:
            module.set_owner_if_different(tmp_path, params["owner"], False)
        if params["group"] is not None:
            module.set_group_if_different(tmp_path, params["group"], False)
        if params["mode"] is not None:
            module.set_mode_if_different(tmp_path, params["mode"], False)
        os.replace(tmp_path, dest)
    except BaseException:
        try:
            os.unlink(tmp_path)
        except OSError:
            pass
        raise


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path"),
            content=dict(type="raw", no_log=True),
            fail_on_invalid=dict(type="bool", default=True),
            dest=dict(type="path"),
        ),
        mutually_exclusive=[("path", "content")],
        required_one_of=[("path", "content")],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    dest = params["dest"]

    result, raw = _load(module)
    redacted = redact(result.normalized) if result.normalized is not None else None
    # Only secrets masked (not every leaf of a dict content): see module_utils/config_no_log.py.
    module.no_log_values = no_log_values(module.no_log_values, params["content"], result.normalized, redacted)
    output = dict(
        changed=False,
        valid=result.valid,
        dialect=result.dialect,
        errors=[problem.as_dict() for problem in result.errors],
        config_warnings=[problem.as_dict() for problem in result.warnings],
        normalized=redacted,
    )
    if dest is not None:
        output["dest"] = dest
    for problem in result.warnings:
        module.warn("config: %s" % problem)

    if not result.valid:
        if params["fail_on_invalid"]:
            lines = ["config is invalid (%d error%s):" % (len(result.errors), "" if len(result.errors) == 1 else "s")]
            lines.extend(str(problem) for problem in result.errors)
            module.fail_json(msg="\n".join(lines), **output)
        if dest is not None:
            module.warn("config is invalid, %s was not written" % dest)
        module.exit_json(**output)

    if dest is None:
        module.exit_json(**output)

    if os.path.isdir(dest):
        module.fail_json(msg="dest %s is a directory (fix: give the full path of the config file)" % dest, **output)
    dir_missing = not os.path.isdir(os.path.dirname(os.path.abspath(dest)))
    if dir_missing and not module.check_mode:
        module.fail_json(
            msg="directory of dest %s does not exist (fix: create it first, e.g. with ansible.builtin.file)" % dest,
            **output
        )

    existing = None if dir_missing else _read_existing(module, dest, output)
    output["checksum"] = hashlib.sha256(raw).hexdigest()
    content_changed = existing != raw
    diffs = []
    if content_changed:
        diffs.append(
            dict(
                before_header="%s (redacted)" % dest,
                after_header="%s (redacted)" % dest,
                before=_redacted_text(existing),
                after=_redacted_text(raw),
            )
        )
        if not module.check_mode:
            try:
                _write_atomically(module, dest, raw)
            except (OSError, IOError) as exc:
                module.fail_json(msg="cannot write %s: %s" % (dest, to_native(exc)), **output)

    changed = content_changed
    if existing is not None or not module.check_mode:
        # Mode/owner of an existing file (or the one just written); check mode reports, does not touch.
        attr_diff = dict(before={}, after={})
        file_args = module.load_file_common_arguments(params, path=dest)
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=attr_diff)
        if attr_diff["before"] or attr_diff["after"]:
            diffs.append(attr_diff)

    output["changed"] = changed
    if module._diff:
        output["diff"] = diffs
    module.exit_json(**output)


if __name__ == "__main__":
    main()
