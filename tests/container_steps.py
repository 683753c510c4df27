"""Execute the Dockerfile's build steps without a Docker engine, in a stand-in image filesystem.

Each build stage gets a directory of its own standing in for the image's filesystem. The image's
paths (/opt, /srv, /var/lib/huashu, /home) are mapped into it wherever they appear: in ENV values,
WORKDIR, COPY, RUN, CMD and HEALTHCHECK. The base image is stood in for by this machine: its
Python (same major.minor as the FROM tag, as `python` at the head of PATH) and its Debian userland
(sh, flock, mkdir). COPY from the build context honours .dockerignore; COPY --from another stage
copies its tree and re-points the venv's absolute paths, which Docker keeps identical across
stages. Everything else runs as written, with these documented exceptions:

- torch: the PyTorch CPU index option is dropped, so pip installs `torch==2.13.0` from this
  machine's configured package sources, which resolve it to a local CPU wheel (the tests reach
  package registries only); the caller checks that the result is a CPU build.
- user management (`groupadd`, `useradd`, `chown` in a RUN) is skipped and USER is recorded, not
  applied: the stand-in runs as the invoking user. Callers check file modes instead.

Run it alone to see the steps and their timings:

    .venv/bin/python tests/container_steps.py test-output/image
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
IMAGE_DIRS = ("/opt", "/srv", "/var/lib/huashu", "/home")
TORCH_CPU_INDEX_OPTION = "--index-url https://download.pytorch.org/whl/cpu"
USER_MANAGEMENT = ("groupadd", "useradd", "chown")
# Settings of this machine that a build or a container needs to reach its package sources, or to
# run numpy correctly on this processor; passed through like `docker build`'s network and `-e`.
PASSED_THROUGH = re.compile(r"PIP_\w+|(?i:https?_proxy|no_proxy)|SSL_CERT_\w+|REQUESTS_CA_BUNDLE|OPENBLAS_\w+")
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_IMAGE_PATH = re.compile(r"(?<![\w.:/-])(?:" + "|".join(map(re.escape, IMAGE_DIRS)) + r")(?=[/\s\"':;]|$)")


class BuildError(RuntimeError):
    pass


@dataclass
class Instruction:
    keyword: str
    value: str
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class Image:
    """The final stage: its filesystem and what `docker run` would use."""

    root: Path
    env: dict[str, str]
    workdir: Path
    user: str | None
    cmd: list[str]
    healthcheck: list[str]
    healthcheck_options: dict[str, str]
    volumes: list[Path]
    exposed: list[str]
    notes: list[str]  # what was substituted or skipped
    timings: list[tuple[str, float]]  # (instruction, seconds)

    def path(self, image_path: str) -> Path:
        return self.root / image_path.lstrip("/")


def parse_dockerfile(text: str) -> list[Stage]:
    """Stages and their instructions; continuation lines joined, comments dropped."""
    stages: list[Stage] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, value = (pending + line).strip().partition(" ")
        pending = ""
        keyword = keyword.upper()
        if keyword == "FROM":
            words = value.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif not stages:
            raise BuildError(f"line {start}: {keyword} before FROM")
        else:
            stages[-1].instructions.append(Instruction(keyword, value.strip(), start))
    return stages


def dockerignore_rules(context: Path) -> list[tuple[bool, re.Pattern]]:
    """(is an exception, pattern) per line of .dockerignore, in order."""
    path = context / ".dockerignore"
    rules = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        regex = ""
        for part in re.split(r"(\*\*/?|\*|\?)", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
        rules.append((negate, re.compile(regex + r"\Z")))
    return rules


def is_ignored(relative: str, rules: list[tuple[bool, re.Pattern]]) -> bool:
    """Docker's rule: the last pattern matching the path, or a directory above it, decides."""
    parts = relative.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for negate, pattern in rules:
        if any(pattern.match(prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def map_paths(text: str, root: Path) -> str:
    """Image paths in `text` moved under the stand-in root."""
    return _IMAGE_PATH.sub(lambda m: str(root) + m.group(0), text)


def expand(text: str, env: dict[str, str]) -> str:
    return re.sub(r"\$(?:\{(\w+)\}|(\w+))", lambda m: env.get(m.group(1) or m.group(2), ""), text)


def passed_through_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if PASSED_THROUGH.fullmatch(k)}


class Builder:
    def __init__(self, dockerfile: Path, context: Path, workspace: Path, log):
        self.stages = parse_dockerfile(dockerfile.read_text(encoding="utf-8"))
        self.context = context
        self.workspace = workspace
        self.log = log  # a binary file: every step's output
        self.rules = dockerignore_rules(context)
        self.roots: dict[str, Path] = {}
        self.notes: list[str] = []
        self.timings: list[tuple[str, float]] = []
        self.base_bin = self._base_python()

    def _base_python(self) -> Path:
        """`python` of the base image: this machine's interpreter, if the versions agree."""
        versions = {re.match(r"python:(\d+\.\d+)", s.base) for s in self.stages}
        if None in versions or len({m.group(1) for m in versions}) != 1:
            raise BuildError(f"the stand-in needs python:X.Y base images, found {[s.base for s in self.stages]}")
        wanted = versions.pop().group(1)
        have = f"{sys.version_info.major}.{sys.version_info.minor}"
        if wanted != have:
            raise BuildError(f"the image is based on Python {wanted}, this interpreter is {have}")
        base_bin = self.workspace / "base" / "usr" / "local" / "bin"
        base_bin.mkdir(parents=True, exist_ok=True)
        interpreter = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
        for name in ("python", "python3", f"python{have}"):
            (base_bin / name).unlink(missing_ok=True)
            (base_bin / name).symlink_to(interpreter)
        return base_bin

    def build(self) -> Image:
        image = None
        for number, stage in enumerate(self.stages):
            image = self._run_stage(stage, self.workspace / (stage.name or f"stage{number}"))
            self.roots[stage.name or str(number)] = image.root
        for root in self.roots.values():
            if root != image.root:
                # Moved away, which breaks any path into it as a deletion would (the image keeps
                # only the last stage) at none of a deletion's disk time.
                discarded = root.with_name(root.name + ".discarded")
                shutil.rmtree(discarded, ignore_errors=True)  # from an earlier run into the same directory
                root.rename(discarded)
        return image

    def _run_stage(self, stage: Stage, root: Path) -> Image:
        shutil.rmtree(root, ignore_errors=True)
        (root / "root").mkdir(parents=True)
        env = {"PATH": f"{self.base_bin}:{BASE_PATH}", "LANG": "C.UTF-8", "HOME": str(root / "root")}
        image = Image(
            root=root, env=env, workdir=root, user=None, cmd=[], healthcheck=[], healthcheck_options={},
            volumes=[], exposed=[], notes=self.notes, timings=self.timings,
        )
        for instruction in stage.instructions:
            started = time.monotonic()
            self._apply(instruction, image)
            self.timings.append((f"{instruction.keyword} {instruction.value}"[:100], time.monotonic() - started))
        return image

    def _apply(self, ins: Instruction, image: Image) -> None:
        root, env = image.root, image.env
        if ins.keyword == "ENV":
            pairs = shlex.split(ins.value)
            if not all("=" in p for p in pairs):
                raise BuildError(f"line {ins.line}: write ENV as KEY=value")
            before = dict(env)  # every pair sees the environment before this instruction
            for key, value in (p.split("=", 1) for p in pairs):
                env[key] = expand(map_paths(value, root), before)
        elif ins.keyword == "WORKDIR":
            image.workdir = self._image_path(ins.value, root, image.workdir)
            image.workdir.mkdir(parents=True, exist_ok=True)
        elif ins.keyword == "COPY":
            self._copy(ins, image)
        elif ins.keyword == "RUN":
            self._run(ins, image)
        elif ins.keyword == "USER":
            image.user = ins.value
            self.notes.append(f"USER {ins.value} recorded, not applied")
        elif ins.keyword == "VOLUME":
            image.volumes = [self._image_path(v, root, image.workdir) for v in self._words(ins.value)]
        elif ins.keyword == "EXPOSE":
            image.exposed = ins.value.split()
        elif ins.keyword == "CMD":
            image.cmd = [map_paths(arg, root) for arg in self._words(ins.value, shell_form=True)]
        elif ins.keyword == "HEALTHCHECK":
            options, _, command = ins.value.partition("CMD ")
            image.healthcheck_options = dict(o.removeprefix("--").split("=", 1) for o in options.split())
            image.healthcheck = [map_paths(arg, root) for arg in self._words(command, shell_form=True)]
        elif ins.keyword != "LABEL":
            raise BuildError(f"line {ins.line}: the stand-in does not handle {ins.keyword}")

    @staticmethod
    def _words(value: str, shell_form: bool = False) -> list[str]:
        value = value.strip()
        if value.startswith("["):
            return json.loads(value)
        return ["/bin/sh", "-c", value] if shell_form else value.split()

    @staticmethod
    def _image_path(path: str, root: Path, workdir: Path) -> Path:
        if "$" in path:
            raise BuildError(f"{path}: the stand-in takes literal paths in WORKDIR, COPY and VOLUME")
        if not path.startswith("/"):
            return workdir / path
        if not _IMAGE_PATH.match(path):
            raise BuildError(f"{path} is outside the directories the stand-in maps: {IMAGE_DIRS}")
        return root / path.lstrip("/")

    def _copy(self, ins: Instruction, image: Image) -> None:
        words = ins.value.split()
        flags = dict(w.removeprefix("--").split("=", 1) for w in words if w.startswith("--"))
        *sources, destination = [w for w in words if not w.startswith("--")]
        if set(flags) - {"from", "chown"}:
            raise BuildError(f"line {ins.line}: unsupported COPY flags {flags}")
        dest = self._image_path(destination, image.root, image.workdir)
        into_directory = destination.endswith("/") or len(sources) > 1
        for source in sources:
            if "from" in flags:
                source_root = self.roots[flags["from"]]
                src = source_root / source.lstrip("/")
            else:
                source_root = None
                src = self.context / source
                if is_ignored(source, self.rules):
                    raise BuildError(f"line {ins.line}: {source} is excluded by .dockerignore")
            target = dest / src.name if into_directory and not src.is_dir() else dest
            if src.is_dir():
                relative_base = Path(source)
                if source_root:  # the other stage's tree, which is discarded afterwards
                    shutil.copytree(src, target, symlinks=True, dirs_exist_ok=True, copy_function=_link_or_copy)
                else:
                    shutil.copytree(src, target, dirs_exist_ok=True, ignore=self._context_filter(relative_base, src))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target)
            if source_root:
                _relocate(target, source_root, image.root)

    def _context_filter(self, relative_base: Path, absolute_base: Path):
        def ignore(directory: str, names: list[str]) -> set[str]:
            relative = relative_base / Path(directory).relative_to(absolute_base)
            return {n for n in names if is_ignored(str(relative / n), self.rules)}

        return ignore

    def _run(self, ins: Instruction, image: Image) -> None:
        if ins.value.startswith("["):
            raise BuildError(f"line {ins.line}: the stand-in runs shell-form RUN only")
        command = ins.value
        if TORCH_CPU_INDEX_OPTION in command:
            command = command.replace(TORCH_CPU_INDEX_OPTION, "")
            self.notes.append(f"torch from this machine's package sources instead of `{TORCH_CPU_INDEX_OPTION}`")
        kept = []
        for part in command.split("&&"):
            if part.split()[:1] and part.split()[0] in USER_MANAGEMENT:
                self.notes.append(f"skipped: {part.strip()}")
            else:
                kept.append(part)
        if not kept:
            return
        command = map_paths("&&".join(kept), image.root)
        self.log.write(f"\n$ {command}\n".encode())
        self.log.flush()
        result = subprocess.run(
            ["/bin/sh", "-c", command], cwd=image.workdir, env={**passed_through_env(), **image.env},
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        if result.returncode != 0:
            raise BuildError(f"line {ins.line}: RUN exited with {result.returncode}: {command}")


def _link_or_copy(src: str, dst: str) -> None:
    """Hard links where possible: a copy between stages of the same tree, without the disk time."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _relocate(tree: Path, old_root: Path, new_root: Path) -> None:
    """Absolute paths into the old stage's tree (venv symlinks, script shebangs, pyvenv.cfg)
    re-pointed to the new one: in Docker both stages use the same paths."""
    old, new = str(old_root), str(new_root)
    paths = [tree] if not tree.is_dir() else [tree, *tree.rglob("*")]
    for path in paths:
        if path.is_symlink():
            target = os.readlink(path)
            if target.startswith(old):
                path.unlink()
                path.symlink_to(new + target[len(old):])
        elif path.is_file() and (path.name == "pyvenv.cfg" or path.parent.name == "bin"):
            data = path.read_bytes()
            if old.encode() in data and (path.name == "pyvenv.cfg" or data.startswith(b"#!")):
                mode = path.stat().st_mode
                path.unlink()  # a hard link: the old stage's file stays as it was
                path.write_bytes(data.replace(old.encode(), new.encode()))
                path.chmod(mode)


def build_image(workspace: Path, log_path: Path, dockerfile: Path = REPO_ROOT / "Dockerfile") -> Image:
    workspace.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        try:
            return Builder(dockerfile, dockerfile.parent, workspace, log).build()
        except BuildError as e:
            log.flush()
            tail = log_path.read_bytes()[-4000:].decode(errors="replace")
            raise BuildError(f"{e}\n--- build log (end) ---\n{tail}") from None


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "test-output/image").resolve()
    built = build_image(target, target / "build.log")
    for step, seconds in built.timings:
        print(f"{seconds:7.1f} s  {step}")
    print("\n".join(["", *built.notes, "", f"image tree: {built.root}", f"command: {shlex.join(built.cmd)}"]))
