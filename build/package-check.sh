#!/usr/bin/env bash
# The package as users get it: packs src/Microsoft.ML.PTuning into a temp local feed (a unique pre-release of the one
# version in Directory.Build.props), checks the package's contents and metadata, then creates a console app in a temp
# folder outside the repo that references the package only (build/package-check/: TorchSharp-cpu + the package), builds
# and runs it (tiny random BERT base, train, save, load in a fresh MLContext, predict) and deletes it all again.
# Exits non-zero, saying why, on any failure. Needs only the .NET SDK and the machine's NuGet sources.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
started=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/ptuning-package-check.XXXXXX")
packages=$(dotnet nuget locals global-packages --list | sed -E 's/^global-packages: *//')
suffix="check.$(date -u +%Y%m%d%H%M%S).$$"
version=""
cleanup() {
  rm -rf "$work"
  # The unique pre-release was extracted into the global packages folder by the app's restore: remove it again.
  if [ -n "$version" ] && [ -n "$packages" ]; then rm -rf "${packages%/}/microsoft.ml.ptuning/$version"; fi
}
trap cleanup EXIT
fail() { echo "package-check: FAILED: $*" >&2; exit 1; }
# A package is a zip: list it / print one entry, with unzip or else Python's zipfile.
zip_list() {
  if command -v unzip >/dev/null; then unzip -Z1 "$1"
  elif command -v python3 >/dev/null; then python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$1"
  else fail "reading $1 needs unzip or python3"; fi
}
zip_cat() {
  if command -v unzip >/dev/null; then unzip -p "$1" "$2"
  else python3 -c 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())' "$1" "$2"; fi
}

echo "package-check: packing into $work/feed"
dotnet pack "$repo/src/Microsoft.ML.PTuning/Microsoft.ML.PTuning.csproj" -c Release -o "$work/feed" \
  -p:VersionSuffix="$suffix" -nologo -v:q || fail "dotnet pack"
nupkg=$(ls "$work"/feed/Microsoft.ML.PTuning.*.nupkg)
version=$(basename "$nupkg" .nupkg | sed 's/^Microsoft\.ML\.PTuning\.//')
[ -f "$work/feed/Microsoft.ML.PTuning.$version.snupkg" ] || fail "no symbols package (.snupkg) beside $nupkg"

# What is inside, and what the package promises.
entries=$(zip_list "$nupkg")
echo "package-check: $(basename "$nupkg") holds:"
sed 's/^/  /' <<<"$entries"
for entry in LICENSE README.md lib/net10.0/Microsoft.ML.PTuning.dll lib/net10.0/Microsoft.ML.PTuning.xml \
             buildTransitive/Microsoft.ML.PTuning.targets buildTransitive/ElfVersionNeedPatcher.cs; do
  grep -qxF "$entry" <<<"$entries" || fail "the package lacks $entry"
done
symbols=$(zip_list "$work/feed/Microsoft.ML.PTuning.$version.snupkg")
grep -qxF lib/net10.0/Microsoft.ML.PTuning.pdb <<<"$symbols" || fail "the symbols package lacks lib/net10.0/Microsoft.ML.PTuning.pdb"
nuspec=$(zip_cat "$nupkg" Microsoft.ML.PTuning.nuspec)
for expected in '<license type="expression">MIT</license>' '<readme>README.md</readme>' '<repository type="git" url="https://' \
                '<projectUrl>https://' '<tags>' '<dependency id="Microsoft.ML" version="[5.0.1]"'; do
  grep -qF "$expected" <<<"$nuspec" || fail "the nuspec lacks $expected"
done
if grep -qiE 'ScottPlot|SkiaSharp|HarfBuzz' <<<"$nuspec"; then fail "the package depends on a native graphics library"; fi

# The consumer app, outside the repo: its own nuget.config adds the local feed to the machine's sources.
app="$work/app"
mkdir -p "$app"
cp "$repo/build/package-check/PackageConsumer.csproj" "$repo/build/package-check/Program.cs" "$app/"
cat > "$app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="ptuning-package-check" value="$work/feed" />
  </packageSources>
</configuration>
XML
echo "package-check: building a consumer of Microsoft.ML.PTuning $version in $app"
dotnet build "$app/PackageConsumer.csproj" -c Release -p:PTuningVersion="$version" -nologo -v:q -o "$app/out" \
  || fail "the consumer app did not build against the package"
# No plotting library comes with the package. (TorchSharp itself depends on SkiaSharp 2.88.6 for torchvision's image
# I/O: its managed DLL and Windows/macOS natives, no Linux native; that is TorchSharp's, see README "Package".)
graphics=$(find "$app/out" -iname "*harfbuzz*" -o -iname "*scottplot*" -o -iname "libSkiaSharp.so")
[ -z "$graphics" ] || fail "the consumer's output holds a graphics library the package should not bring: $graphics"
echo "package-check: running it"
dotnet "$app/out/PackageConsumer.dll" "$work/run" "$version" || fail "the consumer app failed (exit $?)"
echo "package-check: passed in $(( $(date +%s) - started )) s"
