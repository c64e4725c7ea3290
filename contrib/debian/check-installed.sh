#!/usr/bin/env bash
# Installs the .deb built by build-deb.sh with dpkg -i and checks what a user gets: the binary
# on PATH, its manual (with EXAMPLES and EXIT STATUS), the bash completion from the installed
# file, and lintian without errors. Removes the package again at the end.
#
#   contrib/debian/check-installed.sh target/debian/cf-ban-audit_*.deb
set -euo pipefail
DEB=$1
fail() { echo "check-installed: $*" >&2; exit 1; }

lintian --fail-on error --tag-display-limit 0 "$DEB"
dpkg -i "$DEB"
trap 'dpkg -r cf-ban-audit >/dev/null' EXIT

[ "$(command -v cf-ban-audit)" = /usr/bin/cf-ban-audit ] || fail "not /usr/bin/cf-ban-audit"
cf-ban-audit --version
man -w cf-ban-audit
page=$(MANWIDTH=80 man cf-ban-audit 2>/dev/null)
for section in NAME SYNOPSIS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
    grep -q "^$section" <<<"$page" || fail "man cf-ban-audit has no $section"
done
man -w cf-ban-audit-scan >/dev/null
for unit in cf-ban-audit.service cf-ban-audit-live.service cf-ban-audit.timer \
    cf-ban-audit-ranges.service cf-ban-audit-ranges.timer; do
    [ -f "/lib/systemd/system/$unit" ] || fail "no /lib/systemd/system/$unit"
done

# bash completion, from the installed file, in an interactive bash.
complete_words() {
    bash --norc -ic '
        source /usr/share/bash-completion/completions/cf-ban-audit
        fn=$(complete -p cf-ban-audit | sed -E "s/.* -F ([^ ]+) .*/\1/")
        read -r -a COMP_WORDS <<<"$1"
        [ "${1: -1}" = " " ] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE=$1
        COMP_POINT=${#COMP_LINE}
        "$fn" cf-ban-audit "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf "%s\n" "${COMPREPLY[@]}"
    ' bash "$1" 2>/dev/null
}
got=$(complete_words "cf-ban-audit scan --fo")
grep -qx -- --format <<<"$got" && grep -qx -- --follow-links <<<"$got" \
    || fail "scan --fo completes to: $got"
got=$(complete_words "cf-ban-audit snippet ")
for target in fail2ban csf nginx-realip; do
    grep -qx -- "$target" <<<"$got" || fail "snippet completes to: $got"
done
echo "check-installed: $DEB installs and works"
