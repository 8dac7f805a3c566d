#!/usr/bin/env bash
# Writes the man page c10k(1) from the built binary's own help, so that the page lists the
# options the binary really has:
#   packaging/make-man.sh C10K_BINARY OUTPUT.1 [WORK_DIR]
# help2man turns `c10k --help` into the page's SYNOPSIS, DESCRIPTION and OPTIONS; each
# subcommand's `c10k NAME --help` (the names read from the top-level help, so that a new command
# appears without an edit here) goes through help2man too, and its text becomes a subsection of
# COMMANDS. The hand-written sections (NAME, FILES, ENVIRONMENT, SIGNALS, SEE ALSO...) come from
# packaging/c10k.h2m. Set SOURCE_DATE_EPOCH for a page dated reproducibly (help2man honours it).
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
binary=$1
output=$2
work=${3:-$(dirname "$output")}
here=$(cd "$(dirname "$0")" && pwd)
version=$("$binary" --version | awk '{ print $NF; exit }')

mkdir -p "$work"
commands_h2m="$work/c10k-commands.h2m"

# The subcommands: the first word of each indented line under "Subcommands:" in the help.
subcommands=$("$binary" --help | awk '
  /^[^ ]/ { in_list = ($0 ~ /^Subcommands:/); next }
  in_list && /^  [a-z]/ { print $1 }' | sort)
if [ -z "$subcommands" ]; then
  echo "make-man.sh: found no subcommands in '$binary --help'" >&2
  exit 1
fi

{
  echo "[COMMANDS]"
  for name in $subcommands; do
    echo ".SS \"c10k $name\""
    # help2man's page for one subcommand, less what the whole page already has (the header, NAME)
    # and with its section headings made paragraphs: a subsection cannot hold sections.
    help2man --no-info --no-discard-stderr --version-string="$version" --name=x \
      --help-option="$name --help" "$binary" | awk '
        /^\.SH NAME/ { skip = 1; next }
        /^\.SH SYNOPSIS/ { skip = 0; next }
        skip || /^\.\\"/ || /^\.TH / { next }
        /^\.SH DESCRIPTION/ { print ".PP"; next }
        /^\.SH / { title = substr($0, 5); gsub(/"/, "", title);
                   print ".PP"; print substr(title, 1, 1) tolower(substr(title, 2)) ":"; next }
        /^\.SS / { title = substr($0, 5); gsub(/"/, "", title); print ".PP"; print title; next }
        { print }'
  done
} > "$commands_h2m"

# The generated COMMANDS section first, so that it comes before the hand-written other sections
# (help2man keeps the order in which it meets them).
help2man --no-info --version-string="$version" \
  --include="$commands_h2m" --include="$here/c10k.h2m" \
  --output="$output" "$binary"

# help2man exits 0 even when the program's help could not be read; a page without OPTIONS or
# COMMANDS is that failure.
if ! grep -q '^\.SH OPTIONS' "$output" || ! grep -q '^\.SH COMMANDS' "$output"; then
  echo "make-man.sh: $output lacks OPTIONS or COMMANDS" >&2
  exit 1
fi
echo "wrote $output (c10k $version; commands: $(tr '\n' ' ' <<<"$subcommands"))"
