"""Structured allergies against the drug about to be given."""

from kapconsole.domain.allergies import Allergy, AllergySeverity, allergy_conflicts, fold


def test_same_substance_any_case_or_accent() -> None:
    allergies = [Allergy("Kétamine", "anaphylaxis", AllergySeverity.ANAPHYLAXIS), Allergy("Penicillin", "rash")]
    assert allergy_conflicts(allergies, "ketamine") == (allergies[0],)
    assert allergy_conflicts(allergies, "KETAMINE HCl") == (allergies[0],)


def test_family_and_brand_names() -> None:
    ketamine = Allergy("ketamine", "hives", AllergySeverity.MODERATE)
    assert allergy_conflicts([ketamine], "Esketamine (Spravato)") == (ketamine,)
    assert allergy_conflicts([Allergy("Zofran")], "ondansetron") == (Allergy("Zofran"),)
    assert allergy_conflicts([Allergy("benzodiazepines")], "Midazolam") == (Allergy("benzodiazepines"),)


def test_unrelated_drug_and_partial_words_do_not_match() -> None:
    assert allergy_conflicts([Allergy("penicillin"), Allergy("latex")], "ketamine") == ()
    assert allergy_conflicts([Allergy("ketamine")], "ondansetron") == ()
    assert allergy_conflicts([Allergy("")], "ketamine") == ()


def test_fold_ignores_case_accents_and_spacing() -> None:
    assert fold("  Ñúñez  Ortíz ") == "nunez ortiz"
