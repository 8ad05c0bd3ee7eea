/// The EXAMPLES section of every command's `--help` (and so of its man page): one or more typical
/// invocations, each with what it does. Kept in one place so the wording stays consistent.
enum CommandExamples {
    /// The `discussion` text for the command named `name` (its `commandName`; `model-list` for `model list`).
    static func of(_ name: String) -> String {
        guard let examples = Self.table[name] else { return "" }
        return "EXAMPLES:\n" + examples.map { "  # \($0.0)\n  $ \($0.1)" }.joined(separator: "\n\n")
    }

    private static let table: [String: [(String, String)]] = [
        "slicestream": [("Send a file at half resolution", "slicestream encode in.mp4 small.ts --bitrate 800k"),
                        ("Restore it, and measure the result", "slicestream decode small.ts back.mp4 && slicestream compare in.mp4 back.mp4"),
                        ("Ask the running daemon how its streams are doing", "slicestream streams")],
        "probe": [("Show the streams of a file as JSON", "slicestream probe input.mp4 --json")],
        "encode": [("Sender: halve each frame with the learned slicing encoder at 800 kbit/s", "slicestream encode in.mp4 small.ts --downscaler slice --bitrate 800k"),
                   ("Feed a file to a network receiver at its own frame rate (ffmpeg's -re)",
                    "slicestream encode in.mp4 udp://10.0.0.2:5000 --format mpegts --realtime"),
                   ("Machine-readable progress (ffmpeg's key=value blocks) on stdout, nothing else",
                    "slicestream encode in.mp4 small.mp4 --progress pipe:1 -q")],
        "decode": [("Receiver: restore full resolution with the learned upsampler", "slicestream decode small.ts back.mp4 --upsampler subpixel --crf 20"),
                   ("Receive a live UDP stream until its sender stops (exit 0)", "slicestream decode udp://0.0.0.0:5000 out.mp4 --input-format mpegts --timeout 3")],
        "compare": [("PSNR/SSIM of a restored file against its source", "slicestream compare in.mp4 back.mp4 --frames 100")],
        "qa": [("Run every test vector (found in the checkout or the installed share directory)", "slicestream qa"),
               ("Run one vector from a given directory", "slicestream qa --vectors ~/testvectors --vector bikes-sender-area")],
        "eval": [("Rate-distortion of two pairs on a clip", "slicestream eval clip.mp4 --pairs area+lanczos,slice2x+slice2x-up")],
        "model": [("List the models and where their weights come from", "slicestream model list")],
        "info": [("Architecture, cost and hash of a bundled model", "slicestream model info sr2x")],
        "create": [("Write an untrained sr2x-architecture model", "slicestream model create --architecture sr2x --name mine mine.safetensors")],
        "list": [("The catalogue as JSON (parameters, SHA-256, provenance)", "slicestream model list --json | jq '.[] | {name, sha256}'")],
        "int8-eval": [("sr2x's bundled int8 twin against sr2x on the held-out clips at CRF 23-38", "slicestream int8-eval --model sr2x"),
                      ("A twin file, 30 frames of one clip", "slicestream int8-eval --model sr2x-hq --twin sr2x-hq-q8.safetensors --clips data/videos/bikes.mp4 --frames 30")],
        "train": [("Train the generic upsampler on the fetched photos", "slicestream train --architecture sr2x --output sr2x.safetensors"),
                  ("Fine-tune sr2x on inter-coded video, frames of QP 30-36 only", "slicestream train --init-upsampler sr2x --inter-coded --qp-range 30-36 --clips data/videos/bikes.mp4 --steps 2000 --learning-rate 5e-4 --output sr2x-qp30.safetensors"),
                  ("Fine-tune sr2x on inter-coded natural video weighted 3x over pans, a clip's frames 137-241 only", "slicestream train --init-upsampler sr2x --inter-coded --clips data/videos/bikes.mp4@137+105 --clip-weight 3 --steps 12000 --learning-rate 5e-4 --output sr2x-lr.safetensors"),
                  ("Make sr2x's int8 twin: quantisation-aware fine-tuning, then quantised", "slicestream train --int8-from sr2x --steps 2000 --learning-rate 2e-4 --output sr2x-q8.safetensors"),
                  ("Post-training int8 quantisation only", "slicestream train --int8-from sr2x --steps 0 --output sr2x-q8-ptq.safetensors")],
        "lowrate-eval": [("sr2x against a QP-chosen bank on held-out content at CRF 28/33/38",
                          "slicestream lowrate-eval --model sr2x --bank 30,36:q0.safetensors,q1.safetensors,q2.safetensors --clips data/videos/balle-jbart.mp4")],
        "bench": [("Transform speed against swscale (use a release build)", "slicestream bench --seconds 1"),
                  ("Also the whole 1080p receiver job against ffmpeg lanczos + x264", "slicestream bench --pipeline"),
                  ("Streams of each kind this node sustains, as Kubernetes requests", "slicestream bench --capacity --for-kubernetes")],
        "fleet": [("One Deployment per stream of a node config, sized from measured capacity",
                   "slicestream fleet render streams.yaml --out deploy/kubernetes/base/streams --capacity capacity.json")],
        "render": [("Per-stream manifests with fixed requests, then apply them",
                    "slicestream fleet render streams.yaml --out manifests --cpu 1500m --memory 512Mi && kubectl apply -k manifests")],
        "version": [("Versions of slicestream and the linked FFmpeg libraries", "slicestream version")],
        "status": [("Is the daemon up and healthy?", "slicestream status")],
        "streams": [("One line per stream", "slicestream streams"), ("Another daemon's socket", "slicestream streams --socket /tmp/node.sock")],
        "stats": [("Every counter of one stream", "slicestream stats camera"), ("All streams as JSON", "slicestream stats --json | jq .")],
        "start": [("Start a stopped stream", "slicestream start camera")],
        "stop": [("Stop a stream, finalising its output", "slicestream stop camera")],
        "restart": [("Restart a stream", "slicestream restart camera")],
        "remove": [("Stop and remove a stream", "slicestream remove camera")],
        "add": [("Add a stream defined in a YAML file", "slicestream add camera2.yaml")],
        "set": [("Lower a live stream's bit rate", "slicestream set camera bitrate 600k"), ("Switch a receiver's upsampler", "slicestream set viewer upsampler lanczos")],
        "reload": [("Apply an edited config (a bad one is refused)", "slicestream reload")],
        "metrics": [("Prometheus text for one scrape", "slicestream metrics")],
        "watch": [("Follow the stats live", "slicestream watch camera"), ("Log every event as JSON lines", "slicestream watch --json > events.jsonl"),
                  ("Pick fields with jq as events arrive", "slicestream watch --json | jq -c '.result[].fps'")],
        "generate-manual": [("Write the man pages into a directory", "slicestream generate-manual --output-directory man1")],
    ]
}
