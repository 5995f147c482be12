#!/usr/bin/env bash
# The CLI check (issue 13): packs the ptuning tool as a user gets it, installs it from a local feed into a temporary
# tool path, and runs a tiny train → evaluate → predict (text classification and NER) with it on a tiny BERT base
# model and tiny data written here. Fails non-zero, naming the step, on any error; removes everything it made.
#
#   bash build/cli-check.sh            (from anywhere; needs only the .NET 10 SDK and the NuGet sources configured)
#
# The tool is packed for this machine's runtime identifier only (a framework-dependent, RID-specific package: each
# carries one platform's libtorch). The build goes to a temporary artifacts folder, and the install to a temporary
# NuGet package folder, so neither the repo's bin/obj nor the user's package cache is touched.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
command -v dotnet >/dev/null || { echo "cli-check: the .NET SDK (dotnet) is required" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/ptuning-cli-check.XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
step() { echo "cli-check: $*"; }
fail() { echo "cli-check: FAILED: $*" >&2; exit 1; }
started=$SECONDS

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) rid=linux-x64 ;;
  Linux-aarch64) rid=linux-arm64 ;;
  Darwin-arm64) rid=osx-arm64 ;;
  Darwin-x86_64) rid=osx-x64 ;;
  *) fail "no runtime identifier known for $(uname -s)-$(uname -m)" ;;
esac

step "packing src/Microsoft.ML.PTuning.Cli for $rid"
feed="$work/feed"
dotnet pack "$repo/src/Microsoft.ML.PTuning.Cli/Microsoft.ML.PTuning.Cli.csproj" -c Release -o "$feed" \
  --artifacts-path "$work/artifacts" -p:RuntimeIdentifiers="$rid" -p:ToolPackageRuntimeIdentifiers="$rid" -p:SelfContained=false \
  > "$work/pack.log" 2>&1 || { tail -n 30 "$work/pack.log" >&2; fail "dotnet pack"; }
pointer="$(ls "$feed" | grep -E '^Microsoft\.ML\.PTuning\.Cli\.[0-9].*\.nupkg$' | head -n 1)"
[ -n "$pointer" ] || fail "dotnet pack wrote no Microsoft.ML.PTuning.Cli package to $feed ($(ls "$feed"))"
version="${pointer#Microsoft.ML.PTuning.Cli.}"
version="${version%.nupkg}"
step "packed $(ls "$feed" | tr '\n' ' ')"

step "installing Microsoft.ML.PTuning.Cli $version from the local feed"
NUGET_PACKAGES="$work/packages" dotnet tool install Microsoft.ML.PTuning.Cli --version "$version" \
  --tool-path "$work/tools" --add-source "$feed" > "$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "dotnet tool install"; }
ptuning="$work/tools/ptuning"
[ -x "$ptuning" ] || fail "the installed tool has no 'ptuning' command in $work/tools"

step "writing a tiny BERT base model and tiny data"
mkdir -p "$work/model-writer"
cp "$repo/build/cli-check/TinyBertFolder.cs" "$work/model-writer/"
(cd "$work/model-writer" && dotnet run TinyBertFolder.cs -- "$work/base" \
  "$repo/test/fixtures/hf/tokenizers/bert/vocab.txt" "$repo/test/fixtures/hf/tokenizers/bert/tokenizer_config.json") \
  > "$work/model.log" 2>&1 || { cat "$work/model.log" >&2; fail "writing the tiny base model"; }
# Three intents, each told by its keywords among filler words (all in the tiny vocabulary); the same words as CoNLL,
# each keyword tagged with its intent as an entity type. Seeded, so every run trains on the same data.
RANDOM=7
keywords=("card block lost" "money left account" "transfer euros savings")
labels=(card money transfer)
tags=(B-CARD B-MONEY B-TRANSFER)
filler=(the dog please my is on to was in)
echo "Text,Label" > "$work/train.csv"
: > "$work/train.conll"
for _ in $(seq 1 16); do
  for c in 0 1 2; do
    read -ra k <<<"${keywords[$c]}"
    w1=${k[$((RANDOM % 3))]} w2=${k[$((RANDOM % 3))]} f1=${filler[$((RANDOM % 9))]} f2=${filler[$((RANDOM % 9))]}
    echo "$f1 $w1 $f2 $w2,${labels[$c]}" >> "$work/train.csv"
    printf '%s O\n%s %s\n%s O\n%s %s\n\n' "$f1" "$w1" "${tags[$c]}" "$f2" "$w2" "${tags[$c]}" >> "$work/train.conll"
  done
done
printf 'my card was lost\nmoney left in my account\n' > "$work/new.txt"
fast=(--prefix-length 4 --max-length 32 --batch-size 8 --learning-rate 0.03 --seed 7)

step "ptuning --help and train --help"
"$ptuning" --help > "$work/help.txt" || fail "ptuning --help"
grep -q "import-onnx" "$work/help.txt" || fail "ptuning --help does not list import-onnx"
"$ptuning" train --help > "$work/help.txt" || fail "ptuning train --help"

step "ptuning train (text classification)"
"$ptuning" train --data "$work/train.csv" --base-model "$work/base" -o "$work/text.zip" --epochs 4 "${fast[@]}" || fail "ptuning train"
[ -s "$work/text.zip" ] || fail "ptuning train wrote no model zip"

step "ptuning evaluate"
"$ptuning" evaluate --model "$work/text.zip" --data "$work/train.csv" --json "$work/metrics.json" || fail "ptuning evaluate"
grep -q '"microAccuracy"' "$work/metrics.json" || fail "evaluate --json wrote no microAccuracy"

step "ptuning predict (stdin → stdout)"
"$ptuning" predict --model "$work/text.zip" < "$work/new.txt" > "$work/predictions.csv" 2> "$work/predict.err" \
  || { cat "$work/predict.err" >&2; fail "ptuning predict"; }
cat "$work/predictions.csv"
[ "$(head -n 1 "$work/predictions.csv")" = "Text,PredictedLabel,Score" ] || fail "predict's stdout does not start with its CSV header"
[ "$(wc -l < "$work/predictions.csv")" -eq 3 ] || fail "predict's stdout holds other lines than the header and 2 predictions"

step "ptuning train / evaluate / predict (NER)"
"$ptuning" train --task ner --data "$work/train.conll" --base-model "$work/base" -o "$work/ner.zip" --epochs 3 "${fast[@]}" || fail "ptuning train --task ner"
"$ptuning" evaluate --model "$work/ner.zip" --data "$work/train.conll" || fail "ptuning evaluate (NER)"
"$ptuning" predict --model "$work/ner.zip" --input "$work/new.txt" --output "$work/entities.jsonl" 2> "$work/predict.err" \
  || { cat "$work/predict.err" >&2; fail "ptuning predict (NER)"; }
[ "$(wc -l < "$work/entities.jsonl")" -eq 2 ] || fail "predict (NER) wrote $(wc -l < "$work/entities.jsonl") lines, expected 2"

step "exit codes: a missing data file is 2"
set +e
"$ptuning" train --data "$work/missing.csv" --base-model "$work/base" 2> "$work/error.txt"
code=$?
set -e
[ "$code" -eq 2 ] || fail "a missing --data file exited $code, expected 2"
grep -q "missing.csv" "$work/error.txt" || fail "the error does not name the missing file: $(cat "$work/error.txt")"

step "passed in $((SECONDS - started)) s"
