"""XPS file readers on real instrument files (tests/data/xps, see its README) and on faithfully written ones."""

from pathlib import Path

import numpy as np
import pytest

import mlkit.xps
from mlkit.xps.readers import read_spectra, read_spectrum, write_vamas

DATA = Path(__file__).parent / "data" / "xps"
DEVELOPMENT = Path(mlkit.xps.__file__).parent / "development"  # the real surveys shipped with mlkit


def peak(spectrum, low, high):
    inside = (spectrum.binding_energy >= low) & (spectrum.binding_energy <= high)
    return spectrum.binding_energy[inside][np.argmax(spectrum.counts[inside])]


@pytest.mark.parametrize("name, blocks, photon_energy, window, points", [
    ("01_Al-foil_kratos_survey.vms", ["wide"], 1486.69, (-5, 1200), 1206),
    ("06_Ni_NiO_specs_references.vms", ["Survey", "Ni2p", "Survey", "Ni2p"], 1486.61, (0, 1200), 1201),
    ("06_phi_MgKa_survey.spe", ["Sur1"], 1253.6, (0, 1100), 2201),
    ("07_phi_MgKa_survey_multipak_ascii.txt", ["region 1"], 1253.6, (0, 1100), 2201),
    ("12_specs_prodigy_survey+Fe2p_BE.xy", ["Survey", "Fe2p"], 1486.61, (0, 1350), 1351),
    ("16_scienta_ses_survey_hv700.txt", ["survey"], 700.0, (-10, 600), 1221),
    ("20_vamas_casaxps_IRREGULAR_specs_MgFe2O4.vms", ["Counts per Second (Survey)"], 1486.61, (0, 1350), 1351),
    ("22_vamas_kratos_multiplex_2corrvars.vms", ["wide", "2: O 1s", "2: Ta 4f"], 1486.69, (-5, 1200), 1206),
    ("24_vamas_phi_multipak_BEaxis.npl", ["Block No.1 (C 1s)", "Block No.2 (O 1s)", "Block No.3 (S 2p)",
                                          "Block No.4 (N 1s)", "Block No.5 (Mo 3d)"], 1486.6, (275, 305), 601),
])
def test_real_files_read_every_block(name, blocks, photon_energy, window, points):
    spectra = read_spectra((DEVELOPMENT if (DEVELOPMENT / name).is_file() else DATA) / name)
    assert [spectrum.name for spectrum in spectra] == blocks
    first = spectra[0]
    assert first.photon_energy == pytest.approx(photon_energy)
    assert (first.binding_energy[0], first.binding_energy[-1]) == pytest.approx(window, abs=1e-6)
    assert len(first.counts) == points and np.all(np.diff(first.binding_energy) > 0)
    assert all(spectrum.problem is None and spectrum.counts.max() > 0 for spectrum in spectra)


def test_kinetic_axes_become_binding_energy_without_the_work_function():
    # Measured reference lines (Ni metal 852.6, NiO 853.7 eV) land where they belong only with BE = hν − KE.
    ni, ni_2p, nio, nio_2p = read_spectra(DEVELOPMENT / "06_Ni_NiO_specs_references.vms")
    assert (ni.sample, nio.sample) == ("Ni", "NiO")
    assert peak(ni_2p, 845, 860) == pytest.approx(852.65, abs=0.2)
    assert peak(nio_2p, 845, 860) == pytest.approx(853.7, abs=0.3)
    kratos = read_spectrum(DEVELOPMENT / "01_Al-foil_kratos_survey.vms")  # its work-function field is −4.5 eV
    assert 284.0 <= peak(kratos, 280, 292) <= 287.0
    assert kratos.transmission is not None and kratos.transmission.shape == kratos.counts.shape


def test_the_ni_metal_reference_shows_implanted_argon_and_the_oxide_does_not():
    # Why `development_files.SAMPLES` lets the Ni metal survey hold Ar: the Ar 2p doublet (242 eV) of a
    # sputter-cleaned reference stands above the background beside it; nothing does on NiO.
    def argon_excess(spectrum):
        energy, counts = spectrum.binding_energy, spectrum.counts
        flanks = ((energy >= 225) & (energy <= 235)) | ((energy >= 252) & (energy <= 262))
        return counts[(energy >= 239) & (energy <= 246)].mean() / counts[flanks].mean() - 1

    ni, _, nio, _ = read_spectra(DEVELOPMENT / "06_Ni_NiO_specs_references.vms")
    assert argon_excess(ni) > 0.08
    assert abs(argon_excess(nio)) < 0.03


def test_the_same_measurement_in_two_formats_reads_alike():
    binary = read_spectrum(DATA / "06_phi_MgKa_survey.spe")
    exported = read_spectrum(DATA / "07_phi_MgKa_survey_multipak_ascii.txt")
    np.testing.assert_allclose(binary.binding_energy, exported.binding_energy)
    np.testing.assert_allclose(binary.counts, 4 * exported.counts, rtol=1e-6)  # c/s × 50 ms × 5 sweeps
    xy = read_spectra(DATA / "12_specs_prodigy_survey+Fe2p_BE.xy")[0]
    irregular = read_spectrum(DATA / "20_vamas_casaxps_IRREGULAR_specs_MgFe2O4.vms")
    np.testing.assert_allclose(xy.binding_energy, irregular.binding_energy, atol=1e-6)
    np.testing.assert_allclose(xy.counts, irregular.counts, rtol=1e-5)


def test_multi_block_labels_name_block_and_sample():
    spectra = read_spectra(DEVELOPMENT / "06_Ni_NiO_specs_references.vms")
    assert spectra[2].label == "06_Ni_NiO_specs_references.vms [block 3/4 'Survey', sample 'NiO']"


def write(path, text, newline="\n"):
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def test_phi_text_exports(tmp_path):
    mpexport = write(tmp_path / "survey.txt", "//----\n//Multipak Exporter  1.2.5\n//HEADER INFORMATION\n"
                     "Technique:XPS\nXraySource:Al 1486.6 mono\n\n//Area Comment,RegionNo,AtomicName,Area No,XLabel,"
                     "YLabel,DataCount\n#3 Cu foil\n1\nSurvey\n1\nBinding Energy(eV),reverse\nIntensity(cps)\n3\n"
                     "1100\t28292\n1099.5\t30916\n1099\t31070\n", "\r\n")
    spectrum = read_spectrum(mpexport)
    assert (spectrum.name, spectrum.sample, spectrum.photon_energy) == ("Survey", "#3 Cu foil", 1486.6)
    np.testing.assert_allclose(spectrum.counts, [31070, 30916, 28292])
    csv = write(tmp_path / "export.csv", "4\n\nSu1s\n1\n1100,10\n1099,12\n1098,11\n1097,9\nO1s\n1\n540,5\n539,6\n")
    survey, oxygen = read_spectra(csv)
    assert (survey.name, len(survey.counts), oxygen.name, len(oxygen.counts)) == ("Su1s", 4, "O1s", 2)


def test_casaxps_omicron_specslab2_and_plain_text(tmp_path):
    casa = write(tmp_path / "casa.txt", "Cycle 3:Ni:Survey\n\tCharacteristic Energy eV\t1.486610e+003\tAcquisition Time s\t"
                 "1.0e-001\nName\t\t\nPosition\t\t\nK.E.\tCounts\t\tB.E.\tCPS\n"
                 "2.866100e+002\t4.699450e+003\t\t1.200000e+003\t4.699450e+004\n"
                 "2.876100e+002\t4.711840e+003\t\t1.199000e+003\t4.711840e+004\n")
    spectrum = read_spectrum(casa)
    assert (spectrum.sample, spectrum.name, spectrum.photon_energy) == ("Ni", "Survey", 1486.61)
    np.testing.assert_allclose(spectrum.binding_energy, [1199, 1200])
    omicron = write(tmp_path / "spectra.1", "*M*\n  1100.0 1098.0 -0.5 1.0 0.2 5 50.0\n\n1\n2\n3\n4\n5\n"
                    "  110.0 109.0 -0.5 1.0 1.0 3 50.0\nFit result Envelope\n0\n0\n0\n", "\r\n")
    survey, fit = read_spectra(omicron)
    np.testing.assert_allclose(survey.counts, [5, 4, 3, 2, 1])
    assert fit.name == "Fit result Envelope" and fit.problem == "block 2 (Fit result Envelope) has no counts above zero"
    xy = write(tmp_path / "overview.xy", "# Created by:        SpecsLab2, Version 2.55\n#   Kinetic Energy Axis:      yes\n"
               "#\n# Region:            CrO overview\n# Excitation Energy: 1253.6\n#\n# Cycle: 0, Curve: 0\n"
               "253.6 10\n254.1 12\n254.6 14\n\n", "\r\n")
    spectrum = read_spectrum(xy)
    np.testing.assert_allclose(spectrum.binding_energy, [999.0, 999.5, 1000.0])
    np.testing.assert_allclose(spectrum.counts, [14, 12, 10])
    plain = write(tmp_path / "plain.csv", "Kinetic energy (eV),counts\n486.6,3\n487.6,4\n")
    assert read_spectrum(plain, photon_energy=1486.6).binding_energy.tolist() == pytest.approx([999, 1000])
    assert read_spectrum(plain, energy_scale="binding", photon_energy=1486.6).binding_energy[0] == 486.6
    # decimal commas, as spreadsheets in many locales write them, with ";" or tabs between the columns
    comma = write(tmp_path / "comma.csv", "Binding Energy;Counts\n284,5;1200,5\n285;1e3\n285,5\t9,5E2\n")
    spectrum = read_spectrum(comma)
    np.testing.assert_allclose(spectrum.binding_energy, [284.5, 285.0, 285.5])
    np.testing.assert_allclose(spectrum.counts, [1200.5, 1000.0, 950.0])


def test_thermo_avantage_xlsx(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    survey = workbook.active
    survey.title = "Survey"
    for row in range(1, 15):
        survey.cell(row, 1, "Axis" if row == 7 else None)
    survey.append(["Binding Energy (E)", None, "Counts / s", None, None])
    survey.append(["eV", None, "Counts / s", None, None])
    for energy, counts in ((1350, 100.0), (1349, 110.0), (1348, 105.0)):
        survey.append([energy, None, counts])
    narrow = workbook.create_sheet("O1s Scan")
    narrow.append(["Binding Energy (E)", None, "Counts / s", None, "Backgnd."])
    narrow.append(["eV", None, "Counts / s", None, "Counts / s"])
    narrow.append([531.0, None, 50.0, None, 10.0])
    narrow.append([530.9, None, 51.0, None, 10.0])
    workbook.create_sheet("Peak Table").append(["Name", "Peak BE"])
    workbook.save(tmp_path / "avantage.xlsx")
    survey, oxygen = read_spectra(tmp_path / "avantage.xlsx")
    assert (survey.name, oxygen.name) == ("Survey", "O1s Scan")
    np.testing.assert_allclose(survey.counts, [105, 110, 100])
    assert survey.photon_energy == pytest.approx(1486.68)


def test_vamas_round_trip(tmp_path):
    energy = np.linspace(0, 1200, 601)
    counts = 100 + 50 * np.exp(-((energy - 285) / 2) ** 2)
    for kinetic in (True, False):
        path = write_vamas(tmp_path / f"written_{kinetic}.vms", energy, counts, 1486.6, kinetic=kinetic)
        spectrum = read_spectrum(path)
        np.testing.assert_allclose(spectrum.binding_energy, energy, atol=1e-6)
        np.testing.assert_allclose(spectrum.counts, counts, rtol=1e-6)


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"VAMAS Surface Chemical Analysis Standard Data Transfer Format 1988 May 4\nx\ny\n", "ends early"),
    (b"SOFH\nTechnique: XPS\nEOFH\n", "binary block"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    (b"<?xml version='1.0'?>\n<any/>", "export the regions as .xy"),
    (b"1 2 3\n4 5 6\n", "expected two"),
    (b"1,2\n3,nan\n", "NaN"),
    (b"1,-20\n2,10\n", "negative counts"),
    (b"1,2\n1,3\n", "repeated energy"),
])
def test_bad_files_fail_with_one_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        read_spectra(path)
    assert str(error.value).startswith("bad.txt: ")


@pytest.mark.parametrize("imposed", [0.0, 4.0, 8.5, -3.0])
def test_real_surveys_shifted_by_known_amounts_are_referenced_back(imposed):
    from mlkit.xps import find_reference

    for spectrum in (read_spectrum(DEVELOPMENT / "01_Al-foil_kratos_survey.vms"),
                     read_spectra(DATA / "12_specs_prodigy_survey+Fe2p_BE.xy")[0]):
        found = find_reference(spectrum.binding_energy, spectrum.counts).c1s  # 285.9 and 285.7 eV as measured
        reference = find_reference(spectrum.binding_energy + imposed, spectrum.counts)
        assert reference.c1s == pytest.approx(found + imposed, abs=0.2)
        corrected = reference.c1s + reference.shift
        assert abs(corrected - 284.8) < 1.5  # charging removed; the scatter of adventitious C 1s remains
