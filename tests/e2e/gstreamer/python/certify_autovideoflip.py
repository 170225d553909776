"""`autovideoflip` for GStreamer 1.22, loaded by GStreamer's Python plugin loader.

WebKitGTK 2.50 builds its MediaRecorder video encoder around an `autovideoflip`
element (which turns pictures upright from their orientation tags). That element
arrived in GStreamer 1.24; Debian 12 has 1.22, where WebKit then leaves its encoder
unlinked: no video reaches the MP4 muxer, which waits for it, and every recording
comes back as an empty Blob. This bin is the same job done by `videoflip` with
`video-direction=auto`, registered under the name WebKit asks for. The WebKit tests
put this folder on GST_PLUGIN_PATH only when GStreamer has no `autovideoflip` itself.
"""

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import GObject, Gst, GstVideo  # noqa: E402

Gst.init_check(None)


class CertifyAutoVideoFlip(Gst.Bin):
    __gstmetadata__ = (
        "autovideoflip (videoflip in a bin, for GStreamer < 1.24)",
        "Filter/Effect/Video",
        "Flips and rotates video as its orientation tags say",
        "certify tests",
    )
    __gproperties__ = {
        "video-direction": (
            GstVideo.VideoOrientationMethod,
            "Video direction",
            "Video direction: rotation and flipping",
            GstVideo.VideoOrientationMethod.IDENTITY,
            GObject.ParamFlags.READWRITE,
        ),
    }

    def __init__(self):
        super().__init__()
        self.flip = Gst.ElementFactory.make("videoflip", None)
        self.add(self.flip)
        self.add_pad(Gst.GhostPad.new("sink", self.flip.get_static_pad("sink")))
        self.add_pad(Gst.GhostPad.new("src", self.flip.get_static_pad("src")))

    def do_get_property(self, prop):
        return self.flip.get_property("video-direction")

    def do_set_property(self, prop, value):
        self.flip.set_property("video-direction", value)


GObject.type_register(CertifyAutoVideoFlip)
__gstelementfactory__ = ("autovideoflip", Gst.Rank.NONE, CertifyAutoVideoFlip)
