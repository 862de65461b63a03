"""Copy the pinned browser files of GraphiQL and Swagger UI into the package, with their integrity.

`make ide-assets` runs `npm ci` here (npm checks every package against the sha512 in
package-lock.json), then this script: each file in FILES is copied to
stateset_gateway/ide/static/NAME@VERSION/ and its SHA-384 written to manifest.json there, which the
pages put in their `integrity` attributes so a browser refuses a file that changed. The copies are
committed, so the gateway serves them with no network and no Node.js at run time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE.parent / "stateset_gateway" / "ide" / "static"

FILES = {
    "react": ["umd/react.production.min.js", "LICENSE"],
    "react-dom": ["umd/react-dom.production.min.js", "LICENSE"],
    "graphiql": ["graphiql.min.js", "graphiql.min.css", "LICENSE"],
    "@graphiql/plugin-explorer": ["dist/index.umd.js", "dist/style.css"],
    "swagger-ui-dist": ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE"],
}


def integrity(path: Path) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


def main() -> None:
    lock = json.loads((HERE / "package-lock.json").read_text(encoding="utf-8"))
    if TARGET.exists():
        shutil.rmtree(TARGET)
    manifest: dict[str, dict[str, object]] = {}
    for name, files in FILES.items():
        package = HERE / "node_modules" / name
        meta = json.loads((package / "package.json").read_text(encoding="utf-8"))
        locked = lock["packages"][f"node_modules/{name}"]
        if meta["version"] != locked["version"]:
            raise SystemExit(f"{name}: node_modules has {meta['version']}, the lock {locked['version']}: run npm ci")
        folder = f"{name.replace('/', '+')}@{meta['version']}"
        entry: dict[str, object] = {"version": meta["version"], "license": meta.get("license"),
                                    "folder": folder, "files": {}}
        for file in files:
            source = package / file
            destination = TARGET / folder / Path(file).name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            entry["files"][Path(file).name] = integrity(destination)  # type: ignore[index]
        manifest[name] = entry
    (TARGET / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"{len(manifest)} packages copied to {TARGET.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
