"""A tiny study, small enough to work every answer out by hand (all of it SYNTHETIC).

`fixture_records()` gives it as ingest records. The table below is what it holds; the tests that
use it read their expected values off that table (docs/decisions/0049-hand-worked-test-oracles.md).
"""

from __future__ import annotations

from qualkg.ingest.records import (
    Code,
    Coder,
    Event,
    Excerpt,
    Organisation,
    Participant,
    Provenance,
    Publication,
    Study,
    StudyRecords,
    Team,
    Transcript,
)

# Teams:        T1 "Team One" (trust A): flattened-hierarchy, peer-supervision
#               T2 "Team Two" (trust A): no features
# Participants: P1 peer-practitioner, T1      P2 peer-practitioner, T2
#               N1 psychiatrist, T1           N2 mental-health-nurse, T2
# Events:       E1 joint interview [P1, P2] → transcript TR1
#               E2 focus group     [N1, N2] → transcript TR2
# Codebook:     TH1 theme "Working as a peer"
#                 ST1 subtheme "Challenges of the role"
#                   C1 code "Low pay"
#                   C2 code "Compromised hierarchy"
#               TH2 theme "Team culture"
#                 C3 code "Shared decisions"
# Excerpts (offsets are code points into the transcript texts TR1, TR2):
#   X1 P1 TR1 [0, 26)  "SYNTHETIC: The pay is low."                 C1
#   X2 P1 TR1 [27, 51) "The hierarchy came back."                   C2
#   X3 P2 TR1 [31, 70) "hierarchy came back. We decide together."   C3   (overlaps X2)
#   X4 N1 TR2 [11, 28) "Peers bring hope."                          C3
#   X5 N2 TR2 [29, 50) "Pay for peers is low."                      C1, C2

TR1 = "SYNTHETIC: The pay is low. The hierarchy came back. We decide together."
TR2 = "SYNTHETIC: Peers bring hope. Pay for peers is low."


def _x(tid: str, text: str, start: int, codes: tuple[str, ...], speaker: str) -> Excerpt:
    full = TR1 if tid == "TR1" else TR2
    end = start + len(text)
    assert full[start:end] == text, (full[start:end], text)
    return Excerpt(tid, start, end, text, codes, speaker=speaker, coder="R1", synthetic=True,
                   provenance=Provenance("fixture", tool="hand-made", offset_convention="codepoint/lf/exclusive"))


def fixture_records(study_id: str = "fx") -> StudyRecords:
    return StudyRecords(
        study=Study(study_id, "Fixture study", publication=Publication(None, "Fixture report", 2025),
                    design="qualitative interview study", analysis="thematic analysis", synthetic=True,
                    invented=True,
                    sample="4 practitioners (SYNTHETIC)"),
        organisations=[Organisation("trust-a", "Trust A (fixture)")],
        teams=[Team("T1", "Team One", "trust-a", ("flattened-hierarchy", "peer-supervision")),
               Team("T2", "Team Two", "trust-a", ())],
        participants=[Participant("P1", "P1", "peer-practitioner", "T1"),
                      Participant("P2", "P2", "peer-practitioner", "T2"),
                      Participant("N1", "N1", "psychiatrist", "T1"),
                      Participant("N2", "N2", "mental-health-nurse", "T2")],
        events=[Event("E1", "joint-interview", "Joint interview 1", ("P1", "P2")),
                Event("E2", "focus-group", "Focus group 1", ("N1", "N2"))],
        transcripts=[Transcript("TR1", "Transcript 1", TR1, "E1", synthetic=True),
                     Transcript("TR2", "Transcript 2", TR2, "E2", synthetic=True)],
        codes=[Code("TH1", "Working as a peer", level="theme"),
               Code("ST1", "Challenges of the role", "TH1", level="subtheme"),
               Code("C1", "Low pay", "ST1"), Code("C2", "Compromised hierarchy", "ST1"),
               Code("TH2", "Team culture", level="theme"), Code("C3", "Shared decisions", "TH2")],
        coders=[Coder("R1", "Researcher One")],
        excerpts=[_x("TR1", "SYNTHETIC: The pay is low.", 0, ("C1",), "P1"),
                  _x("TR1", "The hierarchy came back.", 27, ("C2",), "P1"),
                  _x("TR1", "hierarchy came back. We decide together.", 31, ("C3",), "P2"),
                  _x("TR2", "Peers bring hope.", 11, ("C3",), "N1"),
                  _x("TR2", "Pay for peers is low.", 29, ("C1", "C2"), "N2")],
    )
