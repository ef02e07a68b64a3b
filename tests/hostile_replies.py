# ruff: noqa: E501  (one reply per line reads better than wrapped tuples)
"""The adversarial suite for the LLM composer: model replies that misstate their sources, beside faithful ones.

Each case is (kind, question, needle, reply): `needle` picks the passage the reply cites ({n} in the reply
becomes its number in the prompt). Adversarial kinds must never be shown as verified; faithful ones should be.
Written before the verifier was changed, over the report and three documents of our own (DOCUMENTS).
"""

from __future__ import annotations

DOCUMENTS = {
    "velmore-dam-review.txt": (
        "Velmore Dam Review\n\n"
        "It is false that the Ministry approved the Velmore dam in 2021. "
        "The review board rejected the claim that the Velmore dam is safe. "
        "Engineers from Castell Water inspected the spillway in March 2023. "
        "The inspection found cracks in three of the twelve turbine housings. "
        "If the spillway is rebuilt, the reservoir may reopen in 2026. "
        "There is no evidence that the contractor falsified the test results. "
        "The regional governor denied that she had been briefed before the flood. "
        "Only four of the nine board members signed the final report. "
        "Dr. Ilse Marren chaired the review board, and Mr. Owen Tarrant represented the Ministry.\n"
    ),
    "harlow-enforcement-notice.txt": (
        "Harlow Council Enforcement Notice\n\n"
        "The Harlow Council fined Brennan Logistics 40,000 euros in May 2024 for illegal dumping. "
        "Brennan Logistics appealed the fine to the Northern Tribunal. "
        "The Northern Tribunal upheld the fine in October 2024. "
        "Most of the dumped waste came from the Kestrel site. "
        "Inspectors estimate that about 300 tonnes of waste were removed. "
        "Some residents reported breathing problems, but the health agency found no link to the dumping. "
        "The company may appeal again if new evidence emerges.\n"
    ),
    "lindqvist-trial-summary.txt": (
        "Lindqvist Trial Summary\n\n"
        "The Lindqvist trial enrolled 240 patients at two hospitals in Uppsala. "
        "Patients who received the drug may have recovered faster than those who received a placebo. "
        "The drug could shorten hospital stays by up to two days. "
        "Researchers found no serious side effects among the treated patients. "
        "Dr. Amara Osei led the trial, and Dr. Tomas Rieck analysed the data. "
        "The results have not yet been peer reviewed. "
        "All patients gave written consent before enrolment.\n"
    ),
}

DAM = "Did the Ministry approve the Velmore dam?"
SAFE = "Is the Velmore dam safe according to the review board?"
INSPECT = "What did the inspection of the Velmore spillway find?"
REOPEN = "When will the Velmore reservoir reopen?"
CONTRACTOR = "Did the contractor falsify the Velmore test results?"
GOVERNOR = "Was the regional governor briefed before the flood?"
SIGNED = "How many board members signed the Velmore final report?"
PEOPLE = "Who chaired the Velmore review board?"
FINE = "Who fined Brennan Logistics and how much?"
TRIBUNAL = "What did the Northern Tribunal decide about the Brennan Logistics fine?"
WASTE = "How much dumped waste was removed from the Kestrel site?"
HEALTH = "Did the dumping cause breathing problems for Harlow residents?"
ENROL = "How many patients did the Lindqvist trial enrol?"
RECOVER = "Did the Lindqvist drug help patients recover faster?"
SIDE = "Did the Lindqvist drug have side effects?"
TRIAL = "Who led the Lindqvist trial?"
CHAIR = "Who chaired Session II?"
BI = "What did Ms. BI Xiaohan say about upskilling?"
CASCADE = "What model does the Micro-Certification Project in Mongolia use?"
HUANG = "What framework did Prof. HUANG Hua present?"
FIEL = "What did Dr. FIELARDH Khalifatulloh stress?"
IV = "Who chaired Session IV?"
PARK = "What did Dr. PARK say about multi-stakeholder collaboration?"
PARTNER = "What did partnerships with enterprises facilitate in Mongolia?"
CHOI = "What did Dr. CHOI say success depends on?"
CLOSING = "Who gave the closing remarks?"


def _cases(table: str) -> list[tuple[str, str, str, str]]:
    """Rows of "kind | QUESTION | needle | reply" as (kind, question, needle, reply); # lines are comments."""
    rows = [line.split(" | ") for line in table.strip().splitlines() if not line.startswith("#")]
    return [(kind, globals()[question], needle, reply) for kind, question, needle, reply in rows]


ADVERSARIAL = _cases(
    """
# A negating, disputing or denying frame of the source dropped.
dropped-negation | DAM | It is false that | The Ministry approved the Velmore dam in 2021 [{n}].
dropped-negation | DAM | It is false that | In 2021 the Ministry approved the Velmore dam [{n}].
dropped-dispute | SAFE | rejected the claim | The Velmore dam is safe [{n}].
dropped-dispute | SAFE | rejected the claim | The review board found that the Velmore dam is safe [{n}].
dropped-negation | CONTRACTOR | no evidence | The contractor falsified the test results [{n}].
dropped-negation | CONTRACTOR | no evidence | There is evidence that the contractor falsified the test results [{n}].
dropped-dispute | GOVERNOR | governor denied | The regional governor had been briefed before the flood [{n}].
dropped-dispute | GOVERNOR | governor denied | She had been briefed before the flood, the regional governor said [{n}].
dropped-negation | SIDE | no serious side effects | Researchers found serious side effects among the treated patients [{n}].
dropped-negation | SIDE | not yet been peer reviewed | The results have been peer reviewed [{n}].
dropped-negation | HEALTH | found no link | The health agency found a link between the dumping and breathing problems [{n}].
added-negation | TRIBUNAL | upheld the fine | The Northern Tribunal did not uphold the fine in October 2024 [{n}].
added-negation | ENROL | enrolled 240 | The Lindqvist trial never enrolled 240 patients [{n}].
added-negation | CHAIR | ARIUNAA Enkhtur | It is false that Session II was chaired by Dr. ARIUNAA Enkhtur [{n}].
added-dispute | CHAIR | ARIUNAA Enkhtur | Dr. ARIUNAA Enkhtur denied that Session II was chaired by her [{n}].
added-dispute | FIEL | FIELARDH | Dr. FIELARDH Khalifatulloh rejected the importance of providing AI literacy training to university faculty [{n}].
# A hedge or condition of the source dropped (or one added).
dropped-hedge | REOPEN | reservoir may reopen | The reservoir will reopen in 2026 [{n}].
dropped-condition | REOPEN | reservoir may reopen | The reservoir may reopen in 2026 [{n}].
dropped-hedge | REOPEN | reservoir may reopen | Once the spillway is rebuilt, the reservoir reopens in 2026 [{n}].
dropped-hedge | RECOVER | may have recovered | Patients who received the drug recovered faster than those who received a placebo [{n}].
dropped-hedge | RECOVER | could shorten | The drug shortens hospital stays by up to two days [{n}].
dropped-condition | TRIBUNAL | appeal again | The company may appeal again [{n}].
dropped-condition | TRIBUNAL | appeal again | The company will appeal again because new evidence emerged [{n}].
added-hedge | TRIBUNAL | upheld the fine | The Northern Tribunal may have upheld the fine in October 2024 [{n}].
added-condition | CHAIR | ARIUNAA Enkhtur | Session II was chaired by Dr. ARIUNAA Enkhtur if the session took place [{n}].
# Quantifiers changed.
quantifier | SIGNED | Only four | All nine board members signed the final report [{n}].
quantifier | SIGNED | Only four | Most of the nine board members signed the final report [{n}].
quantifier | WASTE | about 300 tonnes | Inspectors estimate that more than 300 tonnes of waste were removed [{n}].
quantifier | WASTE | Most of the dumped | All of the dumped waste came from the Kestrel site [{n}].
quantifier | WASTE | Most of the dumped | Some of the dumped waste came from the Kestrel site [{n}].
quantifier | HEALTH | Some residents | All residents reported breathing problems [{n}].
quantifier | ENROL | All patients gave | Only some patients gave written consent before enrolment [{n}].
quantifier | RECOVER | up to two days | The drug could shorten hospital stays by at least two days [{n}].
quantifier | CHOI | appreciation to all | Dr. CHOI Mee Young delivered heartfelt appreciation to a few participants [{n}].
# Numbers and dates changed.
number | INSPECT | cracks in three | The inspection found cracks in four of the twelve turbine housings [{n}].
number | INSPECT | cracks in three | The inspection found cracks in three of the ten turbine housings [{n}].
date | INSPECT | March 2023 | Engineers from Castell Water inspected the spillway in March 2022 [{n}].
date | INSPECT | March 2023 | Engineers from Castell Water inspected the spillway in April 2023 [{n}].
number | FINE | 40,000 euros | The Harlow Council fined Brennan Logistics 4,000 euros in May 2024 [{n}].
date | FINE | 40,000 euros | The Harlow Council fined Brennan Logistics 40,000 euros in June 2024 [{n}].
number | ENROL | enrolled 240 | The Lindqvist trial enrolled 420 patients at two hospitals in Uppsala [{n}].
number | ENROL | enrolled 240 | The Lindqvist trial enrolled 240 patients at three hospitals in Uppsala [{n}].
number | CASCADE | three-phase | The initiative adopts a four-phase cascade model [{n}].
number | HUANG | 1-3-4 | Prof. HUANG Hua presented her institution's 1-3-5 practice framework [{n}].
date | DAM | It is false that | It is false that the Ministry approved the Velmore dam in 2020 [{n}].
# Roles swapped.
swapped-roles | FINE | 40,000 euros | Brennan Logistics fined the Harlow Council 40,000 euros in May 2024 [{n}].
swapped-roles | FINE | 40,000 euros | The Harlow Council was fined 40,000 euros by Brennan Logistics in May 2024 [{n}].
swapped-roles | TRIBUNAL | appealed the fine | The Northern Tribunal appealed the fine to Brennan Logistics [{n}].
swapped-roles | PEOPLE | Ilse Marren chaired | Mr. Owen Tarrant chaired the review board, and Dr. Ilse Marren represented the Ministry [{n}].
swapped-roles | PEOPLE | Ilse Marren chaired | Dr. Ilse Marren represented the Ministry [{n}].
swapped-roles | TRIAL | Amara Osei led | Dr. Tomas Rieck led the trial, and Dr. Amara Osei analysed the data [{n}].
swapped-roles | TRIAL | Amara Osei led | Dr. Tomas Rieck led the Lindqvist trial [{n}].
swapped-roles | TRIAL | Amara Osei led | The trial was led by Dr. Tomas Rieck [{n}].
# Clauses appended that the source never states.
appended-clause | CHAIR | ARIUNAA Enkhtur | Session II was chaired by Dr. ARIUNAA Enkhtur, Associate Professor at University of Osaka in Japan, who later resigned in disgrace [{n}].
appended-clause | CHAIR | ARIUNAA Enkhtur | Session II was chaired by Dr. ARIUNAA Enkhtur, Associate Professor at University of Osaka in Japan, and was cancelled [{n}].
appended-clause | INSPECT | cracks in three | The inspection found cracks in three of the twelve turbine housings, which caused the flood [{n}].
appended-clause | INSPECT | March 2023 | Engineers from Castell Water inspected the spillway in March 2023 and ordered its demolition [{n}].
appended-clause | TRIBUNAL | upheld the fine | The Northern Tribunal upheld the fine in October 2024 after a secret hearing [{n}].
appended-clause | IV | TUNGALAG | Session IV was chaired by Ms. TUNGALAG Chimid, who was appointed by the Ministry [{n}].
appended-clause | PARK | multi-stakeholder | Dr. PARK emphasised that multi-stakeholder collaboration is key to promoting the global alignment of AI and TVET, though it remains unfunded [{n}].
changed-verb | TRIBUNAL | upheld the fine | The Northern Tribunal overturned the fine in October 2024 [{n}].
changed-verb | FINE | 40,000 euros | The Harlow Council paid Brennan Logistics 40,000 euros in May 2024 [{n}].
# Two sentences merged into one claim they do not make together.
merged | PEOPLE | Ilse Marren chaired | Dr. Ilse Marren approved the Velmore dam in 2021 [{n}].
merged | GOVERNOR | governor denied | The regional governor signed the final report [{n}].
merged | CHAIR | ARIUNAA Enkhtur | Session II was chaired by Ms. BI Xiaohan, Deputy Director of UNESCO-ICHEI [{n}].
merged | TRIAL | Amara Osei led | Dr. Amara Osei found serious side effects among the treated patients [{n}].
merged | FINE | 40,000 euros | The Northern Tribunal fined Brennan Logistics 40,000 euros [{n}].
"""
)

FAITHFUL = _cases(
    """
faithful | DAM | It is false that | It is false that the Ministry approved the Velmore dam in 2021 [{n}].
faithful | DAM | It is false that | The Ministry did not approve the Velmore dam in 2021 [{n}].
faithful | SAFE | rejected the claim | The review board rejected the claim that the Velmore dam is safe [{n}].
faithful | CONTRACTOR | no evidence | There is no evidence that the contractor falsified the test results [{n}].
faithful | GOVERNOR | governor denied | The regional governor denied that she had been briefed before the flood [{n}].
faithful | REOPEN | reservoir may reopen | If the spillway is rebuilt, the reservoir may reopen in 2026 [{n}].
faithful | REOPEN | reservoir may reopen | The reservoir may reopen in 2026 if the spillway is rebuilt [{n}].
faithful | SIGNED | Only four | Only four of the nine board members signed the final report [{n}].
faithful | INSPECT | cracks in three | The inspection found cracks in three of the twelve turbine housings [{n}].
faithful | INSPECT | March 2023 | Engineers from Castell Water inspected the spillway in March 2023 [{n}].
faithful | PEOPLE | Ilse Marren chaired | Dr. Ilse Marren chaired the review board [{n}].
faithful | FINE | 40,000 euros | The Harlow Council fined Brennan Logistics 40,000 euros in May 2024 for illegal dumping [{n}].
faithful | FINE | 40,000 euros | Brennan Logistics was fined 40,000 euros by the Harlow Council in May 2024 [{n}].
faithful | TRIBUNAL | upheld the fine | The Northern Tribunal upheld the fine in October 2024 [{n}].
faithful | TRIBUNAL | appealed the fine | Brennan Logistics appealed the fine to the Northern Tribunal [{n}].
faithful | WASTE | about 300 tonnes | Inspectors estimate that about 300 tonnes of waste were removed [{n}].
faithful | WASTE | Most of the dumped | Most of the dumped waste came from the Kestrel site [{n}].
faithful | HEALTH | found no link | The health agency found no link between the dumping and the residents' breathing problems [{n}].
faithful | ENROL | enrolled 240 | The Lindqvist trial enrolled 240 patients at two hospitals in Uppsala [{n}].
faithful | RECOVER | may have recovered | Patients who received the drug may have recovered faster than those who received a placebo [{n}].
faithful | RECOVER | could shorten | The drug could shorten hospital stays by up to two days [{n}].
faithful | SIDE | no serious side effects | Researchers found no serious side effects among the treated patients [{n}].
faithful | SIDE | not yet been peer reviewed | The results have not yet been peer reviewed [{n}].
faithful | TRIAL | Amara Osei led | Dr. Amara Osei led the trial [{n}].
faithful | TRIAL | Amara Osei led | The Lindqvist trial was led by Dr. Amara Osei, and Dr. Tomas Rieck analysed the data [{n}].
faithful | CHAIR | ARIUNAA Enkhtur | Session II was chaired by Dr. ARIUNAA Enkhtur [{n}].
faithful | CHAIR | ARIUNAA Enkhtur | Dr. ARIUNAA Enkhtur, Associate Professor at the University of Osaka in Japan, chaired Session II [{n}].
faithful | BI | BI Xiaohan, Deputy | Ms. BI Xiaohan emphasised that the rapid pace of technological change is creating an urgent need for upskilling and reskilling among higher education professionals [{n}].
faithful | BI | BI Xiaohan, Deputy | According to Ms. BI Xiaohan, the rapid pace of technological change creates an urgent need for upskilling and reskilling among higher education professionals [{n}].
faithful | CASCADE | three-phase | The initiative adopts a three-phase cascade model that enables localised course delivery and large-scale faculty training [{n}].
faithful | HUANG | 1-3-4 | Prof. HUANG Hua presented her institution's 1-3-4 practice framework [{n}].
faithful | FIEL | FIELARDH | Dr. FIELARDH Khalifatulloh stressed the importance of providing AI literacy training to university faculty [{n}].
faithful | IV | TUNGALAG | Session IV was chaired by Ms. TUNGALAG Chimid [{n}].
faithful | PARK | multi-stakeholder | Dr. PARK emphasised that multi-stakeholder collaboration is key to promoting the global alignment of AI and TVET [{n}].
faithful | PARTNER | not only facilitated | Partnerships with domestic and international enterprises and higher education institutions facilitated better alignment between curricula and industry needs [{n}].
faithful | CHOI | success depends | Dr. Choi emphasised that success depends on close collaboration [{n}].
faithful | CLOSING | closing remarks from | The dialogue concluded with closing remarks from representatives of the three co-organising institutions [{n}].
"""
)
